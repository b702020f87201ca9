/// Compiles a JSON Schema (draft 2020-12, with draft-04/06/07 spellings) to a `Grammar` for the
/// JSON text of the schema's valid instances, so a model constrained by it can only emit valid
/// JSON. Exactness comes first: every text the grammar accepts is a valid instance; where a
/// keyword cannot be enforced exactly the schema is refused (`.unsupported`, naming the keyword and
/// its JSON pointer) rather than loosened. Some valid spellings are not generated (see below).
///
/// Supported: boolean schemas; `type`; `enum`/`const` (JSON Schema equality: `1` = `1.0`, any
/// member order); `properties`, `required`, `additionalProperties`, `dependentRequired` (and
/// array-valued `dependencies`), `minProperties`/`maxProperties` (when `additionalProperties` is
/// false or the bound is implied); `patternProperties` with one pattern beside
/// `additionalProperties: false` that no named key matches; `prefixItems`, `items` (and draft-07
/// array `items` with `additionalItems`), `minItems`/`maxItems`; `uniqueItems` (checked when each
/// item closes, `ValueCheck`: a stack whose item equals an earlier one dies there, so the tokens
/// closing a duplicate are masked; items from a finite set are also bounded by its size); `minLength`/`maxLength` (code
/// points); `pattern` (`RegexCompiler`; with length bounds through `PositionAutomaton`); `format`
/// (`date`, `time`, `date-time`, `uuid`, `ipv4`, `email`);
/// `minimum`/`maximum`/`exclusiveMinimum`/`exclusiveMaximum` (any decimal bound, draft-04
/// boolean forms too); `allOf` (merged keyword by keyword); `anyOf`; `oneOf` (provably disjoint
/// branches, each taken with the schema around it, are an `anyOf`; otherwise each branch is taken
/// with the complements of the others, `SchemaNegation`); `if`/`then`/`else` as (if ∧ then) ∨
/// (¬if ∧ else); `not` of types, `enum` or `const`, and of any schema with a complement;
/// `$ref` to `#`, `#/json/pointer` (`~0`, `~1`, percent-decoding), `#anchor`, and `$id`s within the
/// document (recursive references become recursive rules); `$defs`/`definitions`. Annotations
/// are ignored.
///
/// Refused (`.unsupported`): an `if`, a `not` or an overlapping `oneOf` branch without such a
/// complement (one using `pattern`, `format`, `items`, `additionalProperties`, `$ref`…), a `multipleOf` past `Divisor`'s
/// bounds, `contains`, other `patternProperties` (and `propertyNames` beside one), `dependentSchemas`, `unevaluated*`,
/// `$dynamicRef`, other formats, and any unknown keyword.
/// Remote references throw `.badReference`.
///
/// The generated text: whitespace between tokens is bounded (nothing, one space, or a newline
/// and up to `maxIndent` spaces or tabs), none before or after the value. Objects accept their
/// named properties in any order, each at most once, when there are at most
/// `maxOrderFreeProperties` of them (a state per subset of keys), else in the declared order only.
/// Other keys must differ from every named key. Bounded numbers have no exponent; integers
/// accept `1.0`. Strings with a pattern, format or constant value, and named keys, are spelled
/// canonically (only `"`, `\` and control characters escaped); free strings accept every escape.
public struct JSONSchemaCompiler: Sendable {
    public let limits: GrammarLimits
    /// The most spaces or tabs after a newline between two tokens.
    public var maxIndent = 40
    /// Objects with at most this many named properties accept them in any order.
    public var maxOrderFreeProperties = 8

    /// Makes a compiler bounded by `limits`.
    public init(limits: GrammarLimits = GrammarLimits()) {
        self.limits = limits
    }

    /// Compiles a schema.
    ///
    /// - Parameter schema: The schema document.
    /// - Returns: The grammar of the JSON text of its valid instances.
    /// - Throws: `GrammarError`: `.unsupported`/`.badReference`/`.invalidSchema` naming the keyword
    ///   and pointer, `.tooLarge` past `limits`, `.unsatisfiable` when no value is valid.
    public func compile(_ schema: JSONNode) throws(GrammarError) -> Grammar {
        var compilation = SchemaCompilation(
            root: schema, limits: limits, maxIndent: maxIndent, maxOrderFreeProperties: maxOrderFreeProperties)
        let element = try compilation.compile([compilation.root])
        let root = try compilation.kit.builder.add("root", [[element]])
        guard case .rule(let r) = root else { throw GrammarError(.invalidSchema, "internal: no root rule") }
        let grammar: Grammar
        do {
            grammar = try compilation.kit.builder.build(root: r)
        } catch where error.code == .leftRecursion {
            throw GrammarError(.unsupported, "the schema refers to itself before any value is written", keyword: "$ref")
        }
        return try grammar.pruned()
    }

    /// Parses and compiles a schema given as JSON text.
    ///
    /// - Parameter text: The schema document's bytes.
    /// - Returns: The grammar of the JSON text of its valid instances.
    /// - Throws: `GrammarError` (`.syntax` for malformed JSON, else as `compile(_:)`).
    public func compile(text: some Collection<UInt8>) throws(GrammarError) -> Grammar {
        try compile(try JSONNode.parse(text, maxDepth: max(limits.maxNesting, 1) * 2))
    }

    /// The grammar of any JSON object (the `json_object` response format).
    public static func jsonObjectGrammar() -> Grammar {
        anyGrammar { kit throws(GrammarError) in try kit.anyObject() }
    }

    /// The grammar of any JSON value.
    public static func anyJSONValue() -> Grammar {
        anyGrammar { kit throws(GrammarError) in try kit.anyValue() }
    }

    private static func anyGrammar(_ make: (inout GrammarKit) throws(GrammarError) -> Grammar.Element) -> Grammar {
        var kit = GrammarKit(limits: GrammarLimits())
        do {
            let element = try make(&kit)
            guard case .rule(let r) = element else { preconditionFailure("a JSON value is a rule") }
            return try kit.builder.build(root: r)
        } catch {
            // A fixed grammar of a dozen rules, far within the default limits.
            preconditionFailure("the JSON grammar does not fit the limits: \(error)")
        }
    }
}
