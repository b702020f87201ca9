/// One line typed at `brise chat`'s prompt: a message for the model or one of the REPL's commands.
/// Commands never reach the model; `//text` sends `/text`.
enum ChatCommand: Equatable {
    case message(String)
    case help
    /// `/system TEXT` sets the system message, `/system off` removes it, `/system` shows it.
    case system(SystemChange)
    case save(path: String)
    case load(path: String)
    case reset
    case status
    case exit
    /// A command with a missing argument or an unknown name: what to tell the user.
    case mistake(String)

    enum SystemChange: Equatable {
        case show
        case set(String)
        case remove
    }

    /// What `/help` prints.
    static let helpText = """
        /help           this list
        /system TEXT    set the system message (how the model should answer); /system off removes it
        /save FILE      save the conversation as JSON
        /load FILE      continue a saved conversation
        /reset          forget the conversation (the system message stays)
        /status         what brised is doing
        /exit           quit (or Ctrl-D)
        \"\"\"             start and end a message of several lines (pasted lines stay one message)
        //text          send a message that starts with /
        Ctrl-C stops an answer; at the prompt it clears the line.
        """

    /// The command or message `input` (already trimmed of surrounding white space); nil when empty.
    static func parse(_ input: String) -> ChatCommand? {
        guard !input.isEmpty else { return nil }
        guard input.hasPrefix("/") else { return .message(input) }
        if input.hasPrefix("//") { return .message(String(input.dropFirst())) }
        let name = input.prefix { !$0.isWhitespace }
        let argument = input.dropFirst(name.count).trimmingPrefix { $0.isWhitespace }
        let text = String(argument)
        switch name {
        case "/help", "/?": return .help
        case "/system":
            if text.isEmpty { return .system(.show) }
            return .system(text == "off" ? .remove : .set(text))
        case "/save": return text.isEmpty ? .mistake("/save needs a file name: /save FILE") : .save(path: text)
        case "/load": return text.isEmpty ? .mistake("/load needs a file name: /load FILE") : .load(path: text)
        case "/reset", "/clear": return .reset
        case "/status": return .status
        case "/exit", "/quit", "/bye": return .exit
        default: return .mistake("unknown command \(name); /help lists the commands (//text sends a message starting with /)")
        }
    }
}
