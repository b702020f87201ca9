import Foundation
import WireProtocol

/// What `brise chat` sends each turn: an optional system message and the exchanges so far, each
/// message with its token count once known, so the oldest exchanges can be dropped before the
/// conversation outgrows the model's context.
struct Conversation: Equatable {
    /// One message and its length in tokens (nil until counted).
    struct Entry: Equatable {
        var message: Message
        var tokens: Int?
    }

    /// Tokens a message costs beyond its text (the chat template's control tokens and role markers,
    /// rounded up: the count is an estimate, the daemon has the last word).
    static let tokensPerMessage = 8

    private(set) var system: Entry?
    private(set) var entries: [Entry] = []

    init(system: String? = nil) {
        self.system = system.map { Entry(message: Message(role: "system", content: $0)) }
    }

    /// The messages to send, system message first.
    var messages: [Message] { (system.map { [$0] } ?? []).map(\.message) + entries.map(\.message) }

    /// Whether there is nothing but (at most) a system message.
    var isEmpty: Bool { entries.isEmpty }

    mutating func setSystem(_ text: String?) {
        system = text.map { Entry(message: Message(role: "system", content: $0)) }
    }

    mutating func append(role: String, _ content: String, tokens: Int? = nil) {
        entries.append(Entry(message: Message(role: role, content: content), tokens: tokens))
    }

    /// Removes the last message (a question that went unanswered).
    mutating func removeLast() {
        if !entries.isEmpty { entries.removeLast() }
    }

    /// Forgets the exchanges, keeping the system message.
    mutating func reset() { entries.removeAll() }

    /// Indices of messages whose length is not known yet.
    var uncounted: [Int] {
        entries.indices.filter { entries[$0].tokens == nil } + (system != nil && system?.tokens == nil ? [-1] : [])
    }

    /// Records a message's length (`index` -1 is the system message).
    mutating func setTokens(_ tokens: Int, at index: Int) {
        if index == -1 { system?.tokens = tokens } else if entries.indices.contains(index) { entries[index].tokens = tokens }
    }

    /// The estimated prompt length: every message's tokens plus its template overhead; nil while a
    /// length is unknown.
    var estimatedTokens: Int? {
        var total = 0
        for entry in (system.map { [$0] } ?? []) + entries {
            guard let tokens = entry.tokens else { return nil }
            total += tokens + Self.tokensPerMessage
        }
        return total
    }

    /// Drops the oldest exchange (a user message and the replies up to the next user message), never
    /// the last user message. Returns false when nothing can be dropped.
    @discardableResult
    mutating func dropOldestExchange() -> Bool {
        guard let first = entries.firstIndex(where: { $0.message.role == "user" }) else { return false }
        let next = entries[(first + 1)...].firstIndex { $0.message.role == "user" }
        guard let next else { return false }  // the only question left is the one being asked
        entries.removeSubrange(entries.startIndex..<next)
        return true
    }

    /// When the estimate exceeds `budget` tokens, drops the oldest exchanges until it is at most half
    /// of it (or only the last question is left): dropping a turn changes the prompt's start, so the
    /// daemon reads the whole conversation again; halving makes that happen once every few turns, not
    /// on every turn. Returns how many messages were dropped.
    mutating func trim(toFit budget: Int) -> Int {
        guard let estimate = estimatedTokens, estimate > budget else { return 0 }
        let before = entries.count
        while let estimate = estimatedTokens, estimate > budget / 2, dropOldestExchange() {}
        return before - entries.count
    }
}

extension Conversation {
    /// The file `/save` writes and `/load` reads: `{"messages": [{"role": …, "content": …}, …]}`, the
    /// shape of a Chat call's messages.
    struct File: Codable {
        struct Entry: Codable {
            var role: String
            var content: String
        }
        var messages: [Entry]
    }

    /// The largest conversation file `/load` reads.
    static let maximumFileBytes = 16 << 20

    func save(to url: URL) throws {
        let file = File(messages: messages.map { .init(role: $0.role, content: $0.content) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(file).write(to: url, options: .atomic)
    }

    /// A conversation from a saved file; the first message may be the system message.
    ///
    /// - Throws: `ConversationFileError` for a file too large, not JSON of this shape, or with a role
    ///   other than system (first only), user and assistant.
    static func load(from url: URL) throws -> Conversation {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let data = try handle.read(upToCount: maximumFileBytes + 1) ?? Data()
        guard data.count <= maximumFileBytes else {
            throw ConversationFileError(reason: "it is larger than \(maximumFileBytes >> 20) MiB")
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw ConversationFileError(reason: "it is not a saved conversation ({\"messages\": [{\"role\": …, \"content\": …}]})")
        }
        var conversation = Conversation()
        for (index, entry) in file.messages.enumerated() {
            switch entry.role {
            case "system" where index == 0: conversation.setSystem(entry.content)
            case "user", "assistant": conversation.append(role: entry.role, entry.content)
            default:
                throw ConversationFileError(
                    reason: "message \(index + 1) has role \"\(entry.role)\" (system first only, then user and assistant)")
            }
        }
        return conversation
    }
}

/// A conversation file `/load` cannot use.
struct ConversationFileError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
