/// The CPU quota of this process's cgroup, from `/proc/self/cgroup`, `/proc/self/mountinfo` and the
/// cgroup filesystem (v2 `cpu.max`, v1 `cpu.cfs_quota_us` + `cpu.cfs_period_us`).
struct CgroupCPUQuota: Equatable {
    /// The tightest limit along the path to the root, in CPUs.
    var cpus: Double
    /// The file it came from.
    var source: String

    /// A cgroup hierarchy mount: where it is mounted and which cgroup path its root is (not "/" inside
    /// a cgroup namespace or a container).
    struct Mount: Equatable {
        var mountPoint: String
        var root: String
        var isV2: Bool
        var controllers: Set<String>
    }

    static func read(root: String) -> CgroupCPUQuota? {
        guard let membership = readFile(root + "/proc/self/cgroup"),
            let mountInfo = readFile(root + "/proc/self/mountinfo")
        else { return nil }
        let mounts = parseMountInfo(mountInfo)
        var best: CgroupCPUQuota?
        for (controllers, path) in parseMembership(membership) {
            let isV2 = controllers.isEmpty
            guard isV2 || controllers.contains("cpu") else { continue }
            guard let mount = mounts.first(where: { $0.isV2 == isV2 && (isV2 || $0.controllers.contains("cpu")) })
            else { continue }
            for directory in directories(of: path, in: mount) {
                let limit = isV2 ? v2Limit(root + directory) : v1Limit(root + directory)
                if let limit, best.map({ limit.cpus < $0.cpus }) ?? true { best = limit }
            }
        }
        return best
    }

    /// `/proc/self/cgroup` lines `id:controllers:path` as (controllers, path); v2's line has none.
    static func parseMembership(_ text: String) -> [(Set<String>, String)] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[2].hasPrefix("/") else { return nil }
            let controllers = Set(fields[1].split(separator: ",").map(String.init).filter { !$0.hasPrefix("name=") })
            return (fields[1].isEmpty ? [] : controllers, String(fields[2]))
        }
    }

    /// The cgroup mounts in `/proc/self/mountinfo` (field 4 is the mount's root, field 5 its mount
    /// point; after the " - " separator come the filesystem type and the super options).
    static func parseMountInfo(_ text: String) -> [Mount] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.components(separatedBy: " - ")
            guard parts.count == 2 else { return nil }
            let fields = parts[0].split(separator: " ")
            let tail = parts[1].split(separator: " ")
            guard fields.count >= 5, tail.count >= 3 else { return nil }
            let type = tail[0]
            guard type == "cgroup" || type == "cgroup2" else { return nil }
            let options = Set(tail[2].split(separator: ",").map(String.init))
            return Mount(
                mountPoint: unescape(String(fields[4])), root: unescape(String(fields[3])), isV2: type == "cgroup2",
                controllers: options)
        }
    }

    /// The directories of `path` and of each ancestor under `mount` (the cgroup's own first).
    static func directories(of path: String, in mount: Mount) -> [String] {
        var relative = path
        if mount.root != "/", relative.hasPrefix(mount.root) { relative.removeFirst(mount.root.count) }
        var components = relative.split(separator: "/").map(String.init)
        var result: [String] = []
        while true {
            result.append(mount.mountPoint + (components.isEmpty ? "" : "/" + components.joined(separator: "/")))
            guard !components.isEmpty else { break }
            components.removeLast()
        }
        return result
    }

    /// v2 `cpu.max`: `max PERIOD` (unlimited) or `QUOTA PERIOD`.
    static func v2Limit(_ directory: String) -> CgroupCPUQuota? {
        let file = directory + "/cpu.max"
        guard let text = readFile(file) else { return nil }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 2, fields[0] != "max", let quota = Double(fields[0]), let period = Double(fields[1]),
            quota > 0, period > 0
        else { return nil }
        return CgroupCPUQuota(cpus: quota / period, source: "cgroup v2 \(file)")
    }

    /// v1 `cpu.cfs_quota_us` (-1 = unlimited) over `cpu.cfs_period_us`.
    static func v1Limit(_ directory: String) -> CgroupCPUQuota? {
        let file = directory + "/cpu.cfs_quota_us"
        guard let quotaText = readFile(file), let periodText = readFile(directory + "/cpu.cfs_period_us"),
            let quota = Double(quotaText.trimmingCharacters(in: .whitespacesAndNewlines)),
            let period = Double(periodText.trimmingCharacters(in: .whitespacesAndNewlines)), quota > 0, period > 0
        else { return nil }
        return CgroupCPUQuota(cpus: quota / period, source: "cgroup v1 \(file)")
    }

    /// mountinfo escapes spaces and a few other characters as \\040-style octal.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.first {
            if byte == UInt8(ascii: "\\"), utf8.count >= 4,
                let value = UInt8(String(decoding: utf8.dropFirst().prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(4)
            } else {
                bytes.append(byte)
                utf8 = utf8.dropFirst()
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A small text file's contents (cgroup and proc files are a few bytes; capped at 1 MiB).
    static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count < 1 << 20 {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
