import Foundation
import Testing
import TestSupport
import Tokenization

/// The chat prompts of Fixtures/real-models/<model>.greedy.json (scripts/make-real-model-fixtures.py):
/// Brise's ChatEncoder gives, for every conversation, the ids llama.cpp gets from the model's own chat
/// template rendered and tokenized with special tokens parsed. (ModelTests' RealModelParityTests feeds
/// these ids to the forward pass.)
@Suite(.enabled(if: Fixtures.realModelsPresent, TokenizerFixtures.missingRealModels))
struct RealModelChatTokenTests {
    @Test(arguments: Fixtures.realModelNames)
    func chatPromptsTokenizeAsLlamaCpp(name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("real-models/\(name).greedy.json")))
        let fixture = try JSONDecoder().decode(JSONValue.self, from: data)
        let format = try #require(fixture["chatFormat"]?.stringValue.flatMap(ChatFormat.init(rawValue:)))
        let tokenizer = try TokenizerFixtures.tokenizer(name)
        let encoder = try ChatEncoder(tokenizer: tokenizer, format: format)
        // The format detected from the file agrees with the one the fixture used (Gemma's file has no
        // template: the vocabulary decides).
        #expect(try ChatEncoder(tokenizer: tokenizer).format == format)
        let prompts = fixture["prompts"]?.arrayValue ?? []
        #expect(prompts.count == 8)
        for (index, prompt) in prompts.enumerated() {
            let messages = try prompt["messages"]!.arrayValue.map { message in
                let role = try #require(message["role"]?.stringValue.flatMap(ChatMessage.Role.init(rawValue:)))
                return ChatMessage(role, message["content"]?.stringValue ?? "")
            }
            let want = prompt["ids"]!.arrayValue.map { TokenID($0.intValue!) }
            let got = try encoder.encode(messages)
            #expect(got == want, "\(name) prompt \(index): \(got) vs llama.cpp \(want)")
            #expect(try tokenizer.decode(got, renderSpecial: true) == prompt["text"]?.stringValue)
        }
    }
}
