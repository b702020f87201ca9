import Foundation
import Testing
import TestSupport
import Tokenization

/// Decoding round-trips text, and the streaming detokenizer's chunks add up to the one-shot decode.
@Suite struct RoundTripTests {
    static var available: [String] {
        [TokenizerFixtures.tekken, TokenizerFixtures.spmV3, TokenizerFixtures.gemma, TokenizerFixtures.qwen].filter {
            TokenizerFixtures.vocabularyPresent($0) || TokenizerFixtures.realModelPresent($0)
        }
    }

    /// SentencePiece escapes spaces as U+2581 `▁`, so a literal `▁` in the text decodes as a space
    /// (sentencepiece and llama.cpp behave the same); every other text comes back byte for byte.
    static func expectedRoundTrip(_ text: String, _ tokenizer: Tokenizer) -> String {
        guard tokenizer.vocabulary.model == .sentencePiece else { return text }
        // By scalar: "▁" followed by a combining mark is one Character.
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\u{2581}" ? " " : $0 }))
    }

    @Test(arguments: available)
    func decodeOfEncodeIsTheText(vocabulary: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(vocabulary)
        var failures: [String] = []
        for entry in try TokenizerFixtures.corpus() {
            let decoded = try tokenizer.decode(tokenizer.encode(entry.text))
            if decoded != Self.expectedRoundTrip(entry.text, tokenizer) {
                failures.append("\(entry.text.debugDescription) → \(decoded.debugDescription)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures: \(failures.prefix(5).joined(separator: "\n"))")
    }

    @Test(arguments: available)
    func streamingEqualsOneShotOnCorpus(vocabulary: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(vocabulary)
        for entry in try TokenizerFixtures.corpus() {
            let ids = tokenizer.encode(entry.text)
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var chunks: [String] = []
            for id in ids { chunks.append(try stream.append(id)) }
            chunks.append(stream.finish())
            #expect(chunks.joined() == Self.expectedRoundTrip(entry.text, tokenizer))
            // Whole characters only: no chunk carries a replacement character the text did not have.
            if !entry.text.contains("\u{FFFD}") {
                #expect(!chunks.contains { $0.contains("\u{FFFD}") }, "\(entry.text.debugDescription)")
            }
        }
    }

    /// Arbitrary id sequences (byte tokens cut through characters, control tokens, anything): the
    /// stream still adds up to the one-shot decode, repairs included.
    @Test(arguments: available)
    func streamingEqualsOneShotOnRandomIDs(vocabulary: String) throws {
        let tokenizer = try TokenizerFixtures.tokenizer(vocabulary)
        var random = SeededRandom(seed: 0x5EED_0005)
        // Bias towards byte-ish tokens (low ids in SPM, single bytes in BPE) to split characters often.
        let byteIDs = (0..<tokenizer.count).filter { (try? tokenizer.pieceBytes(TokenID($0), renderSpecial: false).count) == 1 }
        for _ in 0..<500 {
            let length = Int.random(in: 0..<40, using: &random)
            let ids = (0..<length).map { _ -> TokenID in
                Bool.random(using: &random) && !byteIDs.isEmpty
                    ? TokenID(byteIDs.randomElement(using: &random)!)
                    : TokenID(Int.random(in: 0..<tokenizer.count, using: &random))
            }
            for renderSpecial in [false, true] {
                var stream = StreamingDetokenizer(tokenizer: tokenizer, renderSpecial: renderSpecial)
                var text = ""
                for id in ids { text += try stream.append(id) }
                text += stream.finish()
                #expect(text == (try tokenizer.decode(ids, renderSpecial: renderSpecial)))
            }
        }
    }

    @Test func invalidIDsThrow() throws {
        let name = try #require(Self.available.first, "no vocabulary available")
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        #expect(throws: TokenizerError.self) { try tokenizer.decode([-1]) }
        #expect(throws: TokenizerError.self) { try tokenizer.decode([TokenID(tokenizer.count)]) }
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        #expect(throws: TokenizerError.self) { try stream.append(TokenID.max) }
    }

    @Test func utf8HoldBack() {
        // "é" = C3 A9, "€" = E2 82 AC, "😀" = F0 9F 98 80.
        #expect(StreamingDetokenizer.completePrefixLength([0x41, 0xC3]) == 1)
        #expect(StreamingDetokenizer.completePrefixLength([0x41, 0xC3, 0xA9]) == 3)
        #expect(StreamingDetokenizer.completePrefixLength([0xE2, 0x82]) == 0)
        #expect(StreamingDetokenizer.completePrefixLength([0xF0, 0x9F, 0x98]) == 0)
        #expect(StreamingDetokenizer.completePrefixLength([0xF0, 0x9F, 0x98, 0x80]) == 4)
        // Bytes that can never start a character are not held back.
        #expect(StreamingDetokenizer.completePrefixLength([0x41, 0xFF]) == 2)
        #expect(StreamingDetokenizer.completePrefixLength([0x80, 0x80]) == 2)
    }
}
