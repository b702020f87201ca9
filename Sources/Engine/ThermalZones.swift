/// Reads temperatures from the kernel's thermal zones (`/sys/class/thermal/thermal_zone*/temp`, in
/// millidegrees Celsius), under a configurable root so tests and fanless boxes with odd layouts can
/// point elsewhere.
public struct ThermalZones: Sendable {
    /// The directory holding `thermal_zone*` (default `/sys/class/thermal`).
    public var directory: String

    /// Creates a reader.
    ///
    /// - Parameter directory: The directory holding `thermal_zone*`.
    public init(directory: String = "/sys/class/thermal") {
        self.directory = directory
    }

    /// One zone's reading.
    public struct Reading: Sendable, Equatable {
        /// The zone's directory name (`thermal_zone0`).
        public var zone: String
        /// Its `type` (`cpu-thermal`, `x86_pkg_temp`, …), when readable.
        public var type: String?
        /// Degrees Celsius.
        public var celsius: Double

        /// Creates a reading.
        public init(zone: String, type: String?, celsius: Double) {
            self.zone = zone
            self.type = type
            self.celsius = celsius
        }
    }

    /// Every zone's current temperature (unreadable or malformed zones are skipped).
    ///
    /// - Returns: The readings, in zone order.
    public func read() -> [Reading] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasPrefix("thermal_zone") }
            .sorted { (Int($0.dropFirst(12)) ?? 0) < (Int($1.dropFirst(12)) ?? 0) }
            .compactMap { name in
                guard let text = CgroupCPUQuota.readFile("\(directory)/\(name)/temp"),
                    let milli = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), milli.isFinite
                else { return nil }
                let type = CgroupCPUQuota.readFile("\(directory)/\(name)/type")?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                return Reading(zone: name, type: type, celsius: milli / 1000)
            }
    }

    /// The hottest zone's temperature, or nil when there are no readable zones.
    public func hottest() -> Reading? {
        read().max { $0.celsius < $1.celsius }
    }
}

import Foundation
