/// The memory limit of this process's cgroup: the tightest of v2 `memory.max` and `memory.high`, or
/// v1 `memory.limit_in_bytes`, on its own cgroup and every ancestor. Mapped model weights in the page
/// cache are charged to the cgroup, so they count against this limit.
public struct CgroupMemoryLimit: Sendable, Equatable {
    /// The limit in bytes.
    public var bytes: Int
    /// The file it came from.
    public var source: String

    /// Reads the limit, under `root` (`""` for the real system); nil when there is none.
    ///
    /// - Parameter root: A directory prefixed to every path read.
    /// - Returns: The tightest limit, or nil.
    public static func read(root: String = "") -> CgroupMemoryLimit? {
        guard let membership = CgroupCPUQuota.readFile(root + "/proc/self/cgroup"),
            let mountInfo = CgroupCPUQuota.readFile(root + "/proc/self/mountinfo")
        else { return nil }
        let mounts = CgroupCPUQuota.parseMountInfo(mountInfo)
        var best: CgroupMemoryLimit?
        for (controllers, path) in CgroupCPUQuota.parseMembership(membership) {
            let isV2 = controllers.isEmpty
            guard isV2 || controllers.contains("memory") else { continue }
            guard let mount = mounts.first(where: { $0.isV2 == isV2 && (isV2 || $0.controllers.contains("memory")) })
            else { continue }
            let files = isV2 ? ["memory.max", "memory.high"] : ["memory.limit_in_bytes"]
            for directory in CgroupCPUQuota.directories(of: path, in: mount) {
                for name in files {
                    let file = directory + "/" + name
                    guard let text = CgroupCPUQuota.readFile(root + file),
                        let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                        // v1 writes "no limit" as a huge page-rounded number (0x7FFFFFFFFFFFF000).
                        value > 0, value < 1 << 60
                    else { continue }
                    let version = isV2 ? "v2" : "v1"
                    if best.map({ value < $0.bytes }) ?? true {
                        best = CgroupMemoryLimit(bytes: value, source: "cgroup \(version) \(file)")
                    }
                }
            }
        }
        return best
    }
}

import Foundation
