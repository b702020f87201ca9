@testable import Engine
import Foundation
import Testing
import TestSupport

/// The thread count from fake /proc and cgroup trees (v1 and v2), and from a real v1 cgroup when the
/// tests run as root.
@Suite struct CPUBudgetTests {
    /// A fake filesystem root with /proc/self files and cgroup directories.
    final class FakeRoot {
        let path: String
        init(affinity: String = "0-7") throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("brise-cg-\(UUID())").path
            try write("proc/self/status", "Name:\tbrise\nCpus_allowed_list:\t\(affinity)\n")
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        func write(_ relative: String, _ text: String) throws {
            let url = URL(fileURLWithPath: path + "/" + relative)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }

        static let v2MountInfo = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
        static let v1MountInfo = """
            25 23 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
            26 23 0:23 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
            27 23 0:24 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw

            """
    }

    @Test(arguments: [
        ("max 100000", 8), ("200000 100000", 2), ("150000 100000", 1), ("50000 100000", 1), ("800000 100000", 8),
        ("1600000 100000", 8), ("350000 100000", 3),
    ])
    func v2CPUMax(cpuMax: String, threads: Int) throws {
        let root = try FakeRoot()
        try root.write("proc/self/cgroup", "0::/system.slice/brised.service\n")
        try root.write("proc/self/mountinfo", FakeRoot.v2MountInfo)
        try root.write("sys/fs/cgroup/system.slice/brised.service/cpu.max", cpuMax + "\n")
        let budget = CPUBudget.detect(root: root.path)
        #expect(budget.affinityCPUs == 8)
        #expect(budget.threads == threads, "\(cpuMax): \(budget)")
        if cpuMax.hasPrefix("max") { #expect(budget.quotaCPUs == nil) } else { #expect(budget.quotaSource.contains("cpu.max")) }
    }

    @Test func v2AncestorLimitWins() throws {
        let root = try FakeRoot()
        try root.write("proc/self/cgroup", "0::/system.slice/brised.service\n")
        try root.write("proc/self/mountinfo", FakeRoot.v2MountInfo)
        try root.write("sys/fs/cgroup/system.slice/brised.service/cpu.max", "max 100000\n")
        try root.write("sys/fs/cgroup/system.slice/cpu.max", "100000 100000\n")
        #expect(CPUBudget.detect(root: root.path).threads == 1)
    }

    @Test(arguments: [("-1", "100000", 4), ("100000", "100000", 1), ("250000", "100000", 2), ("300000", "50000", 4)])
    func v1CFSQuota(quota: String, period: String, threads: Int) throws {
        let root = try FakeRoot(affinity: "0-3")
        try root.write("proc/self/cgroup", "5:memory:/brise\n4:cpu,cpuacct:/brise\n0::/\n")
        try root.write("proc/self/mountinfo", FakeRoot.v1MountInfo)
        try root.write("sys/fs/cgroup/cpu,cpuacct/brise/cpu.cfs_quota_us", quota + "\n")
        try root.write("sys/fs/cgroup/cpu,cpuacct/brise/cpu.cfs_period_us", period + "\n")
        let budget = CPUBudget.detect(root: root.path)
        #expect(budget.threads == threads, "\(quota)/\(period): \(budget)")
    }

    /// Inside a container the mount's root is the container's cgroup, and /proc/self/cgroup may show
    /// the full path: the quota is found at the mount point itself.
    @Test func namespacedMountRoot() throws {
        let root = try FakeRoot()
        try root.write("proc/self/cgroup", "0::/docker/abc123\n")
        try root.write("proc/self/mountinfo", "30 23 0:26 /docker/abc123 /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n")
        try root.write("sys/fs/cgroup/cpu.max", "200000 100000\n")
        #expect(CPUBudget.detect(root: root.path).threads == 2)
    }

    @Test func affinityMaskBoundsThreads() throws {
        let root = try FakeRoot(affinity: "2,5")
        try root.write("proc/self/cgroup", "0::/\n")
        try root.write("proc/self/mountinfo", FakeRoot.v2MountInfo)
        try root.write("sys/fs/cgroup/cpu.max", "800000 100000\n")
        let budget = CPUBudget.detect(root: root.path)
        #expect(budget.affinityCPUs == 2 && budget.threads == 2)
        #expect(CPUBudget.parseCPUList("0-3,8,10-11") == 7)
        #expect(CPUBudget.parseCPUList("3-1") == nil)
        #expect(CPUBudget.parseCPUList("x") == nil)
    }

    @Test func missingOrMalformedFilesMeanNoQuota() throws {
        let root = try FakeRoot(affinity: "0-1")
        #expect(CPUBudget.detect(root: root.path).threads == 2)  // no cgroup files at all
        try root.write("proc/self/cgroup", "garbage\n::\n0::relative\n")
        try root.write("proc/self/mountinfo", "nonsense - \n")
        #expect(CPUBudget.detect(root: root.path) == CPUBudget(affinityCPUs: 2, quotaCPUs: nil, quotaSource: "none found"))
        try root.write("proc/self/cgroup", "0::/\n")
        try root.write("proc/self/mountinfo", FakeRoot.v2MountInfo)
        try root.write("sys/fs/cgroup/cpu.max", "lots 0\n")
        #expect(CPUBudget.detect(root: root.path).quotaCPUs == nil)
        #expect(CgroupCPUQuota.unescape("/sys/fs/cgroup/my\\040dir") == "/sys/fs/cgroup/my dir")
    }

    /// On this machine (cgroup v1 `cpu` mounted, tests as root): a real cgroup with a quota of 1.5
    /// CPUs, and `brise budget` run inside it reports 1 thread; with 2.5 CPUs, the affinity mask's.
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isWritableFile(atPath: "/sys/fs/cgroup/cpu")))
    func realV1Cgroup() throws {
        let group = "/sys/fs/cgroup/cpu/brise-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: group, withIntermediateDirectories: false)
        defer { rmdir(group) }
        let brise = ChildProcess.builtProduct("brise")
        for (quota, expected) in [("150000", "1 threads"), ("250000", "\(CPUBudget.detect().affinityCPUs) threads")] {
            try "100000".write(toFile: group + "/cpu.cfs_period_us", atomically: false, encoding: .utf8)
            try quota.write(toFile: group + "/cpu.cfs_quota_us", atomically: false, encoding: .utf8)
            let result = try ChildProcess.run("/bin/sh", ["-c", "echo $$ > \(group)/cgroup.procs && exec \(brise) budget"])
            #expect(result.exitStatus == 0, "\(result.standardError)")
            #expect(result.standardOutput.hasPrefix("cpu     " + expected), "\(quota): \(result.standardOutput)")
            #expect(result.standardOutput.contains("cgroup v1"), "\(result.standardOutput)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
