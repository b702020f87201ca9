import Foundation
import GGUF
import Model
import Tokenization

/// A smaller model with the target's vocabulary that guesses its next tokens (speculative decoding's
/// draft model): e.g. Ministral 3 3B for Ministral 3 8B, or a lower-bit copy of the same file. It keeps
/// one KV slot per target slot, follows each sequence (the prompt and the accepted tokens) and guesses
/// greedily. Mapped like the target; planned in what the memory budget leaves after it. Used by one
/// thread at a time (the engine's, or `brise generate`'s).
public final class DraftModel: @unchecked Sendable {
    // @unchecked Sendable: used by one thread at a time (as `ModelSession`).

    /// The loaded draft model (same threads, kernels, context and slots as the target).
    public let loaded: LoadedModel
    /// What each slot's cache holds, in order.
    private var slotTokens: [[Int32]]

    /// Loads the draft for `target`.
    ///
    /// - Throws: `EngineError` `.invalidRequest` when the vocabularies differ or the draft does not fit
    ///   what the memory budget leaves; the file's own errors (`GGUFError`, `ModelError`) otherwise.
    public init(path: String, target: LoadedModel, lockWeights: Bool = false, environment: [String: String]) throws {
        let remaining = max(0, target.plan.budget - target.plan.totalBytes)
        // The draft's plan counts the process's own overhead again; the target's already holds it.
        let draft = try LoadedModel(
            modelPath: path, contextLength: target.contextLength, memoryBudget: remaining + MemoryPlan.defaultOverhead, lockWeights: lockWeights,
            threads: nil, cacheType: target.session.cacheType, slots: target.plan.slots, pool: target.pool, kernelPath: target.path,
            environment: environment)
        if let difference = Self.vocabularyDifference(target, draft) {
            throw EngineError(.invalidRequest, "the draft model \(path) cannot draft for \(target.filePath): \(difference)", parameter: "draftModel")
        }
        guard draft.contextLength == target.contextLength, draft.plan.slots == target.plan.slots else {
            throw EngineError(
                .invalidRequest,
                "the draft model \(path) does not fit what the memory budget leaves (\(MemoryPlan.formatted(remaining))) beside the target's "
                    + "\(target.plan.slots) slots of \(target.contextLength) positions: it would have \(draft.plan.slots) of \(draft.contextLength)",
                parameter: "draftModel")
        }
        loaded = draft
        slotTokens = Array(repeating: [], count: draft.session.slots)
        for slot in 0..<draft.session.slots { draft.session.reset(slot: slot) }
    }

    /// Why the two models' vocabularies differ (nil: they are the same, id by id).
    static func vocabularyDifference(_ target: LoadedModel, _ draft: LoadedModel) -> String? {
        guard target.vocabularySize == draft.vocabularySize else {
            return "its output has \(draft.vocabularySize) tokens, the target's \(target.vocabularySize)"
        }
        switch (target.tokenizer, draft.tokenizer) {
        case (nil, nil):
            return nil
        case (.some(let a), .some(let b)):
            guard a.vocabulary.count == b.vocabulary.count else {
                return "its vocabulary has \(b.vocabulary.count) tokens, the target's \(a.vocabulary.count)"
            }
            for id in 0..<a.vocabulary.count where a.vocabulary.text(of: TokenID(id)) != b.vocabulary.text(of: TokenID(id)) {
                let show = { (v: Vocabulary) in v.text(of: TokenID(id)).map { String(decoding: $0, as: UTF8.self).debugDescription } ?? "none" }
                return "token \(id) is \(show(b.vocabulary)) in it, \(show(a.vocabulary)) in the target"
            }
            return nil
        default:
            return "one of the files has no vocabulary"
        }
    }

    /// Greedy guesses of the `count` tokens after `sequence` (everything the target's slot will hold
    /// once its next token is evaluated), from the draft's `slot`, whose cache is first brought to
    /// `sequence` (kept prefix, the rest evaluated).
    ///
    /// - Throws: `ModelError` from the draft's forward pass (the slot is then reset).
    func propose(slot: Int, sequence: [Int32], count: Int) throws -> [Int32] {
        guard count > 0, !sequence.isEmpty else { return [] }
        let session = loaded.session
        do {
            // Keep the common prefix, but evaluate at least the last token again, for its logits.
            var keep = zip(slotTokens[slot], sequence).prefix { $0 == $1 }.count
            keep = min(keep, sequence.count - 1)
            if keep < session.position(slot: slot) {
                if session.rewind(to: keep, slot: slot) {
                    slotTokens[slot].removeSubrange(keep...)
                } else {
                    session.reset(slot: slot)
                    slotTokens[slot] = []
                    keep = 0
                }
            }
            var logits: [Float] = []
            var start = keep
            while start < sequence.count {
                let end = min(sequence.count, start + session.prefillBatch)
                let chunk = sequence[start..<end]
                logits = try session.evaluate(batch: [.init(slot: slot, tokens: chunk, logits: end == sequence.count ? .last : .none)])
                slotTokens[slot] += chunk
                start = end
            }
            var guesses: [Int32] = []
            while true {
                let next = Self.argmax(logits)
                guesses.append(next)
                // The last guess is not evaluated: the next step's catch-up does it if it is accepted.
                guard guesses.count < count, session.position(slot: slot) + 1 < session.contextLength else { break }
                logits = try session.evaluate(batch: [.init(slot: slot, tokens: [next][...], logits: .last)])
                slotTokens[slot].append(next)
            }
            return guesses
        } catch {
            session.reset(slot: slot)
            slotTokens[slot] = []
            throw error
        }
    }

    /// The first index of the largest logit.
    static func argmax(_ logits: [Float]) -> Int32 {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return Int32(best)
    }
}
