#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// How many worker threads this process should run: no more than the CPUs it may run on (affinity
/// mask) and no more than its cgroup's CPU quota in whole CPUs, at least 1.
///
/// A runtime that starts one spinning thread per host core under a `cpu.max` of 2 CPUs gets throttled
/// by the kernel mid-barrier and runs tens of times slower (USERS.md item 4); so the quota is read on
/// this process's cgroup and every ancestor (the tightest limit wins), for cgroup v2 (`cpu.max`) and
/// v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`, which this project's machines and many boards still
/// use). Files are read under `root`, so tests can point at a fake tree.
public struct CPUBudget: Sendable, Equatable, CustomStringConvertible {
    /// CPUs in the affinity mask.
    public var affinityCPUs: Int
    /// The tightest cgroup quota, in CPUs (`quota / period`); nil when unlimited or unknown.
    public var quotaCPUs: Double?
    /// Where the quota came from (`cgroup v2 /sys/fs/cgroup/…/cpu.max`), or why there is none.
    public var quotaSource: String
    /// The worker threads to run: `max(1, min(affinity, ⌊quota⌋))`.
    public var threads: Int

    /// Creates a budget from its parts.
    ///
    /// - Parameters:
    ///   - affinityCPUs: CPUs in the affinity mask.
    ///   - quotaCPUs: The quota in CPUs, or nil.
    ///   - quotaSource: Where the quota came from.
    public init(affinityCPUs: Int, quotaCPUs: Double?, quotaSource: String) {
        self.affinityCPUs = max(1, affinityCPUs)
        self.quotaCPUs = quotaCPUs
        self.quotaSource = quotaSource
        var threads = self.affinityCPUs
        if let quotaCPUs { threads = min(threads, Int(quotaCPUs.rounded(.down))) }
        self.threads = max(1, threads)
    }

    public var description: String {
        let quota = quotaCPUs.map { "quota \(($0 * 100).rounded() / 100) CPUs (\(quotaSource))" } ?? "no CPU quota"
        return "\(threads) threads: \(affinityCPUs) CPUs in the affinity mask, \(quota)"
    }

    /// Reads this process's affinity mask and cgroup CPU quota.
    ///
    /// - Parameter root: A directory prefixed to every path read (`""` for the real system).
    /// - Returns: The budget. Unreadable or malformed cgroup files mean "no quota known", never an error:
    ///   the affinity mask still bounds the threads.
    public static func detect(root: String = "") -> CPUBudget {
        let affinity = affinityCount(root: root) ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let quota = CgroupCPUQuota.read(root: root)
        return CPUBudget(affinityCPUs: affinity, quotaCPUs: quota?.cpus, quotaSource: quota?.source ?? "none found")
    }

    /// The number of CPUs in this process's affinity mask, from `Cpus_allowed_list` in
    /// `/proc/self/status` (the mask `sched_getaffinity` reports, as ranges like `0-3,8`), or nil.
    static func affinityCount(root: String) -> Int? {
        guard let status = CgroupCPUQuota.readFile(root + "/proc/self/status"),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return nil }
        return parseCPUList(String(line.dropFirst("Cpus_allowed_list:".count)))
    }

    /// Counts the CPUs in a list like `0-3,8,10-11`; nil when malformed.
    static func parseCPUList(_ text: String) -> Int? {
        var count = 0
        for part in text.split(separator: ",") {
            let bounds = part.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "-")
            guard let first = bounds.first.flatMap({ Int($0) }) else { return nil }
            let last = bounds.count == 2 ? Int(bounds[1]) : first
            guard bounds.count <= 2, let last, last >= first else { return nil }
            count += last - first + 1
        }
        return count > 0 ? count : nil
    }
}
