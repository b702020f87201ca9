import Foundation
import ModelStore
import Synchronization

/// `brise pull`'s progress on standard error: one line rewritten in place on a terminal, an
/// occasional plain line otherwise (logs and CI keep a readable record, not thousands of `\r`s).
///
/// Called from the download's thread; the state sits behind a mutex.
final class PullProgressBar: Sendable {
    private struct State {
        var lastDraw: ContinuousClock.Instant?
        var lastLoggedTenth = -1
        var attempt = 0
        var attemptStartTime = ContinuousClock.now
        var attemptStartBytes = 0
        var lineOpen = false
    }

    private let interactive: Bool
    private let label: String
    private let clock = ContinuousClock()
    private let state = Mutex(State())

    /// Creates a bar.
    ///
    /// - Parameters:
    ///   - label: The file being pulled, shown on plain lines.
    ///   - interactive: Whether standard error is a terminal.
    init(label: String, interactive: Bool) {
        self.label = label
        self.interactive = interactive
    }

    /// Shows a progress report.
    func update(_ progress: PullProgress) {
        state.withLock { state in
            let now = clock.now
            if progress.attempt != state.attempt {
                state.attempt = progress.attempt
                state.attemptStartTime = now
                state.attemptStartBytes = progress.attemptStart
            }
            switch progress.phase {
            case .downloading:
                if interactive {
                    if let last = state.lastDraw, now - last < .milliseconds(100),
                        progress.receivedBytes != progress.totalBytes
                    {
                        return
                    }
                    state.lastDraw = now
                    state.lineOpen = true
                    write("\r\u{1B}[K" + describe(progress, state: state, now: now))
                } else {
                    // A line per tenth of the file, or every 10 s when the size is unknown.
                    if let total = progress.totalBytes, total > 0 {
                        let tenth = progress.receivedBytes * 10 / total
                        guard tenth > state.lastLoggedTenth else { return }
                        state.lastLoggedTenth = tenth
                    } else {
                        if let last = state.lastDraw, now - last < .seconds(10) { return }
                        state.lastDraw = now
                    }
                    write("pull: \(label): " + describe(progress, state: state, now: now) + "\n")
                }
            case .retrying(let reason, let delay):
                closeLine(&state)
                write("pull: \(label): \(reason); retrying in \(formatSeconds(delay))\n")
            case .restarting(let reason):
                closeLine(&state)
                state.lastLoggedTenth = -1
                state.attemptStartBytes = 0
                write("pull: \(label): \(reason); starting over from byte 0\n")
            case .verifying:
                closeLine(&state)
                let size = formatBytes(progress.receivedBytes)
                write("pull: \(label): downloaded \(size); checking size, SHA-256 and GGUF\n")
            }
        }
    }

    /// Ends the in-place line, if one is open.
    func finish() {
        state.withLock { closeLine(&$0) }
    }

    private func closeLine(_ state: inout State) {
        if state.lineOpen {
            write("\n")
            state.lineOpen = false
        }
    }

    private func describe(_ progress: PullProgress, state: State, now: ContinuousClock.Instant) -> String {
        var parts: [String] = []
        if let total = progress.totalBytes, total > 0 {
            let fraction = min(1, Double(progress.receivedBytes) / Double(total))
            let percent = "\(Int(fraction * 100))%"
            if interactive {
                let width = 24
                let filled = Int(fraction * Double(width))
                parts.append(
                    String(repeating: " ", count: max(0, 4 - percent.count)) + percent + " ["
                        + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
            } else {
                parts.append(percent)
            }
            parts.append("\(formatBytes(progress.receivedBytes)) of \(formatBytes(total))")
        } else {
            parts.append(formatBytes(progress.receivedBytes))
        }
        let elapsed = now - state.attemptStartTime
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let moved = progress.receivedBytes - state.attemptStartBytes
        if seconds >= 0.5, moved > 0 {
            let rate = Double(moved) / seconds
            parts.append("\(formatBytes(Int(rate)))/s")
            if let total = progress.totalBytes, total > progress.receivedBytes {
                parts.append("ETA \(formatSeconds(Double(total - progress.receivedBytes) / rate))")
            }
        }
        if progress.attemptStart > 0, progress.attemptStart == state.attemptStartBytes {
            parts.append("resumed at \(formatBytes(progress.attemptStart))")
        }
        return parts.joined(separator: "  ")
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Seconds as `0.5s`, `42s`, `3m05s` or `2h10m`.
func formatSeconds(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    if seconds < 10 { return "\((seconds * 10).rounded() / 10)s" }
    let whole = Int(seconds.rounded())
    if whole < 60 { return "\(whole)s" }
    if whole < 3600 { return "\(whole / 60)m" + (whole % 60 < 10 ? "0" : "") + "\(whole % 60)s" }
    return "\(whole / 3600)h" + ((whole % 3600) / 60 < 10 ? "0" : "") + "\((whole % 3600) / 60)m"
}
