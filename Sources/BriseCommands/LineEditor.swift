import CLineEditor
import Foundation

/// Reads `brise chat`'s input: on a terminal through libedit (line editing, history kept in a file,
/// Ctrl-C abandons the line, pasted lines stay one entry), otherwise line by line from stdin.
final class LineEditor {
    /// What one read gave.
    enum Input: Equatable {
        case line(String)
        /// Ctrl-C at the prompt: the line was abandoned.
        case interrupted
        /// Ctrl-D on an empty line, or the end of the input.
        case end
    }

    /// How many entries the history keeps.
    static let historySize = 1000

    private let editor: OpaquePointer?

    /// Whether input comes from a terminal (and is edited).
    var isTerminal: Bool { editor != nil }

    /// - Parameter historyFile: Where the history is loaded from and saved to (nil: kept in memory).
    init(historyFile: URL?) {
        editor = historyFile.flatMap { url in
            url.path.withCString { brise_line_editor_open("brise", $0, Int32(Self.historySize)) }
        } ?? brise_line_editor_open("brise", nil, Int32(Self.historySize))
    }

    deinit { brise_line_editor_close(editor) }

    /// One line, without its newline; a newline inside pasted text comes back as "\n".
    func read(prompt: String) -> Input {
        guard let editor else {
            return readLine(strippingNewline: true).map { .line($0) } ?? .end
        }
        var line: UnsafePointer<CChar>?
        var length = 0
        let status = brise_line_editor_read(editor, prompt, &line, &length)
        switch status {
        case BRISE_LINE:
            guard let line else { return .line("") }
            let bytes = UnsafeRawBufferPointer(start: line, count: length)
            return .line(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: Self.pastedNewline, with: "\n"))
        case BRISE_INTERRUPTED: return .interrupted
        default: return .end
        }
    }

    /// Adds `text` to the history (a text of several lines as one entry).
    func remember(_ text: String) {
        guard let editor else { return }
        _ = brise_line_editor_remember(editor, text.replacingOccurrences(of: "\n", with: Self.pastedNewline))
    }

    /// How a newline inside pasted text shows while the line is edited.
    static let pastedNewline = String(UnicodeScalar(UInt32(BRISE_PASTED_NEWLINE))!)

    /// `$XDG_STATE_HOME/brise/history`, or `~/.local/state/brise/history`; the directory is made
    /// (mode 0700) if needed. Nil when neither is known or the directory cannot be made.
    static func historyFile(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        let base: URL
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            base = URL(fileURLWithPath: state)
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            base = URL(fileURLWithPath: home).appendingPathComponent(".local/state")
        } else {
            return nil
        }
        let directory = base.appendingPathComponent("brise")
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            return nil
        }
        return directory.appendingPathComponent("history")
    }
}
