import CSystemd
import Foundation

/// The daemon's messages to systemd over `$NOTIFY_SOCKET` (libsystemd's `sd_notify`): readiness,
/// status lines, start-up timeout extensions, watchdog pings, stopping. Without `$NOTIFY_SOCKET`
/// (not run by systemd) every call is a no-op that returns false.
public struct SystemdNotifier: Sendable {
    /// Whether a notify socket was given.
    public let isEnabled: Bool
    /// The watchdog interval systemd asked for (`WATCHDOG_USEC`, for this process), if any.
    public let watchdogInterval: Duration?

    /// Reads the environment systemd set up.
    ///
    /// - Parameter environment: The process environment.
    public init(environment: [String: String]) {
        isEnabled = !(environment["NOTIFY_SOCKET"] ?? "").isEmpty
        var usec: UInt64 = 0
        // sd_watchdog_enabled checks WATCHDOG_PID against our pid, as systemd intends.
        if sd_watchdog_enabled(0, &usec) > 0, usec > 0 {
            // At most a day: systemd's own limit is far below, and a larger value (a hand-set
            // WATCHDOG_USEC) would overflow the model thread's nanosecond arithmetic.
            watchdogInterval = .microseconds(Int64(min(usec, 86_400_000_000)))
        } else {
            watchdogInterval = nil
        }
    }

    /// Sends `state` (newline-separated `KEY=value` assignments).
    ///
    /// - Parameter state: The assignments.
    /// - Returns: Whether a message was sent.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard isEnabled else { return false }
        return sd_notify(0, state) > 0
    }

    /// `READY=1` with a status line.
    @discardableResult
    public func ready(status: String) -> Bool { notify("READY=1\nSTATUS=\(Self.oneLine(status))") }

    /// `STATUS=…`.
    @discardableResult
    public func status(_ status: String) -> Bool { notify("STATUS=\(Self.oneLine(status))") }

    /// `EXTEND_TIMEOUT_USEC=…`: asks systemd for more start-up (or stop) time.
    @discardableResult
    public func extendTimeout(by duration: Duration) -> Bool {
        let usec = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        return notify("EXTEND_TIMEOUT_USEC=\(max(0, usec))")
    }

    /// `WATCHDOG=1`.
    @discardableResult
    public func watchdog() -> Bool { notify("WATCHDOG=1") }

    /// `STOPPING=1` with a status line.
    @discardableResult
    public func stopping(status: String) -> Bool { notify("STOPPING=1\nSTATUS=\(Self.oneLine(status))") }

    /// A status line may not contain a newline (it would start a new assignment).
    static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }
}
