import Foundation
import Testing
import WireProtocol

@testable import BriseCommands

/// The REPL's pure parts: what a typed line means, and how the conversation is cut to the context.
@Suite struct ChatConversationTests {
    @Test func commandsNeverReachTheModel() {
        #expect(ChatCommand.parse("") == nil)
        #expect(ChatCommand.parse("hello /help") == .message("hello /help"))
        #expect(ChatCommand.parse("//help") == .message("/help"))
        #expect(ChatCommand.parse("/help") == .help)
        #expect(ChatCommand.parse("/system Answer in French.") == .system(.set("Answer in French.")))
        #expect(ChatCommand.parse("/system") == .system(.show))
        #expect(ChatCommand.parse("/system off") == .system(.remove))
        #expect(ChatCommand.parse("/save  notes/chat.json") == .save(path: "notes/chat.json"))
        #expect(ChatCommand.parse("/load ~/chat.json") == .load(path: "~/chat.json"))
        #expect(ChatCommand.parse("/reset") == .reset)
        #expect(ChatCommand.parse("/quit") == .exit)
        if case .mistake(let text)? = ChatCommand.parse("/save") { #expect(text.contains("/save FILE")) } else { Issue.record("/save without a file") }
        if case .mistake(let text)? = ChatCommand.parse("/sytem x") { #expect(text.contains("unknown command /sytem")) } else { Issue.record("a typo") }
    }

    static func conversation(turns: Int, tokens: Int = 40) -> Conversation {
        var conversation = Conversation(system: "Be brief.")
        conversation.setTokens(4, at: -1)
        for turn in 0..<turns {
            conversation.append(role: "user", "question \(turn)", tokens: tokens)
            conversation.append(role: "assistant", "answer \(turn)", tokens: tokens)
        }
        conversation.append(role: "user", "the new question", tokens: tokens)
        return conversation
    }

    @Test func trimsTheOldestTurnsToHalfTheBudgetOnceItOverflows() {
        var small = Self.conversation(turns: 2)
        // 1 + 5 messages × (40 + 8) + 4 + 8 = 252: fits 300, nothing dropped.
        #expect(small.estimatedTokens == 252)
        #expect(small.trim(toFit: 300) == 0)

        var long = Self.conversation(turns: 10)  // 12 + 21 × 48 = 1020
        let dropped = long.trim(toFit: 500)
        #expect(dropped % 2 == 0 && dropped > 0)
        #expect(long.estimatedTokens! <= 250)
        #expect(long.system?.message.content == "Be brief.")
        #expect(long.entries.first?.message.role == "user")
        #expect(long.entries.last?.message.content == "the new question")
        // The question being asked is never dropped, even when it alone is too long.
        var huge = Self.conversation(turns: 3, tokens: 400)
        _ = huge.trim(toFit: 100)
        #expect(huge.entries.map(\.message.content) == ["the new question"])
    }

    @Test func anUncountedMessageLeavesTheConversationAlone() {
        var conversation = Self.conversation(turns: 10)
        conversation.append(role: "assistant", "not counted")
        #expect(conversation.estimatedTokens == nil)
        #expect(conversation.trim(toFit: 10) == 0)
        #expect(conversation.uncounted == [conversation.entries.count - 1])
        // Without a system message there is no system length to count.
        var bare = Conversation()
        bare.append(role: "user", "hi")
        #expect(bare.uncounted == [0])
        bare.setSystem("Be brief.")
        #expect(bare.uncounted == [0, -1])
    }

    @Test func savesAndLoadsAndRefusesWhatIsNotAConversation() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brise-chat-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("chat.json")
        let original = Self.conversation(turns: 2)
        try original.save(to: file)
        let loaded = try Conversation.load(from: file)
        #expect(loaded.messages == original.messages)

        for (name, text) in [
            ("not-json", "hello"), ("wrong-shape", #"{"turns": []}"#),
            ("tool-role", #"{"messages": [{"role": "tool", "content": "x"}]}"#),
            ("late-system", #"{"messages": [{"role": "user", "content": "x"}, {"role": "system", "content": "y"}]}"#),
        ] {
            let bad = directory.appendingPathComponent(name)
            try text.write(to: bad, atomically: true, encoding: .utf8)
            #expect(throws: ConversationFileError.self, "\(name)") { try Conversation.load(from: bad) }
        }
        let big = directory.appendingPathComponent("big.json")
        try Data(count: Conversation.maximumFileBytes + 1).write(to: big)
        #expect(throws: ConversationFileError.self) { try Conversation.load(from: big) }
    }

    /// Colour only on a terminal, and never with NO_COLOR set or TERM=dumb.
    @Test func colourFollowsTheTerminalAndNoColor() throws {
        let terminal = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        try #require(terminal >= 0)
        defer { close(terminal) }
        #expect(TerminalStyle(fileDescriptor: terminal, environment: ["TERM": "xterm"]).enabled)
        #expect(TerminalStyle(fileDescriptor: terminal, environment: ["TERM": "xterm"]).red("x") == "\u{1B}[31mx\u{1B}[0m")
        #expect(!TerminalStyle(fileDescriptor: terminal, environment: ["TERM": "xterm", "NO_COLOR": "1"]).enabled)
        #expect(TerminalStyle(fileDescriptor: terminal, environment: ["TERM": "xterm", "NO_COLOR": ""]).enabled)
        #expect(!TerminalStyle(fileDescriptor: terminal, environment: ["TERM": "dumb"]).enabled)
        var pipeEnds: [Int32] = [0, 0]
        try #require(pipe(&pipeEnds) == 0)
        defer { close(pipeEnds[0]); close(pipeEnds[1]) }
        #expect(!TerminalStyle(fileDescriptor: pipeEnds[1], environment: ["TERM": "xterm"]).enabled)
        #expect(TerminalStyle(fileDescriptor: pipeEnds[1], environment: [:]).red("x") == "x")
    }
}
