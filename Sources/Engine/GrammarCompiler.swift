import Synchronization
public import StructuredOutput
public import Tokenization

/// A compiled output constraint, ready for sequences to decode under: the grammar's automaton and
/// its token-mask cache for this model's vocabulary. Shared by every request with the same format,
/// so the cache warmed by one serves the next.
public final class CompiledGrammar: Sendable {
    /// The format it was compiled from.
    public let format: OutputFormat
    let cache: TokenMaskCache

    init(format: OutputFormat, cache: TokenMaskCache) {
        self.format = format
        self.cache = cache
    }

    /// The grammar (GBNF text through `description`).
    public var grammar: Grammar { cache.automaton.grammar }

    /// A fresh decoding state at the grammar's start; `endTokens` are allowed where it is complete.
    public func makeConstraint(endTokens: some Collection<Int32>) -> GrammarConstraint {
        GrammarConstraint(cache: cache, endTokens: endTokens.sorted())
    }
}

/// Compiles output formats against one model's vocabulary: the vocabulary's byte trie is built on
/// first use, and the last compiled formats are kept (least recently used out), so a client that
/// sends the same schema with every request pays compilation and mask warm-up once.
///
/// Compilation is bounded (`GrammarLimits`): a hostile schema or grammar is an error in bounded
/// time and memory. Thread-safe; callers compile before submitting, off the model thread.
public final class GrammarCompiler: Sendable {
    let tokenizer: Tokenizer
    let limits: GrammarLimits
    private let capacity: Int
    private let trie = Mutex<TokenTrie?>(nil)
    private let recent = Mutex<[(Key, CompiledGrammar)]>([])

    /// - Parameters:
    ///   - tokenizer: The model's tokenizer.
    ///   - capacity: How many compiled formats to keep.
    public init(tokenizer: Tokenizer, limits: GrammarLimits = GrammarLimits(), capacity: Int = 32) {
        self.tokenizer = tokenizer
        self.limits = limits
        self.capacity = max(1, capacity)
    }

    /// The vocabulary's trie: every token's bytes, control tokens left out.
    public var vocabularyTrie: TokenTrie {
        trie.withLock { trie in
            if let trie { return trie }
            let built = Self.trie(for: tokenizer)
            trie = built
            return built
        }
    }

    /// The trie of a tokenizer's vocabulary (control and unknown tokens left out: a grammar never
    /// produces them).
    public static func trie(for tokenizer: Tokenizer) -> TokenTrie {
        let vocabulary = tokenizer.vocabulary
        let pieces: [[UInt8]?] = (0..<vocabulary.count).map { index in
            let id = TokenID(index)
            guard !vocabulary.isControl(id) else { return nil }
            return try? tokenizer.pieceBytes(id, renderSpecial: false)
        }
        return TokenTrie(tokens: pieces)
    }

    /// The compiled constraint for `format`.
    ///
    /// - Throws: `EngineError` `.invalidRequest` naming the parameter (and, for a schema, the
    ///   keyword and where it is).
    public func compile(_ format: OutputFormat) throws(EngineError) -> CompiledGrammar {
        try compiled(.format(format), format: format) { () throws(EngineError) in try Self.grammar(for: format, limits: limits) }
    }

    /// What compiled grammars are kept under: a client's format, or a grammar made for tool calls
    /// (named by its construction).
    enum Key: Hashable {
        case format(OutputFormat)
        case derived(String)
    }

    /// The compiled grammar under `key`, from the kept ones or built by `make` (then kept).
    func compiled(_ key: Key, format: OutputFormat, make: () throws(EngineError) -> Grammar) throws(EngineError) -> CompiledGrammar {
        if let hit = recent.withLock({ recent -> CompiledGrammar? in
            guard let i = recent.firstIndex(where: { $0.0 == key }) else { return nil }
            let entry = recent.remove(at: i)
            recent.append(entry)
            return entry.1
        }) {
            return hit
        }
        let grammar = try make()
        let compiled = CompiledGrammar(
            format: format, cache: TokenMaskCache(automaton: GrammarAutomaton(grammar), trie: vocabularyTrie))
        recent.withLock { recent in
            recent.append((key, compiled))
            if recent.count > capacity { recent.removeFirst(recent.count - capacity) }
        }
        return compiled
    }

    /// The grammar of a format (no vocabulary involved).
    ///
    /// - Throws: `EngineError` `.invalidRequest` naming the parameter.
    public static func grammar(for format: OutputFormat, limits: GrammarLimits = GrammarLimits()) throws(EngineError) -> Grammar {
        do {
            switch format {
            case .jsonObject:
                return JSONSchemaCompiler.jsonObjectGrammar()
            case .jsonSchema(let text):
                return try JSONSchemaCompiler(limits: limits).compile(text: Array(text.utf8))
            case .grammar(let text):
                return try GBNFParser(limits: limits).parse(text)
            }
        } catch {
            var message = error.message
            if let keyword = error.keyword, !message.contains(keyword) { message += " (\(keyword))" }
            if let location = error.location, !location.isEmpty {
                message += format.parameter == "grammar" ? " at \(location)" : " at \(location) in the schema"
            }
            throw EngineError(.invalidRequest, message, parameter: format.parameter)
        }
    }
}
