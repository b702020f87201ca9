public import ArgumentParser
import Foundation
import GGUF
import Tokenization

/// `brise tokenize --model FILE TEXT`: the token ids (and pieces) a model's tokenizer gives a text.
public struct Tokenize: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Tokenize text with a GGUF model's tokenizer and print the ids.",
        discussion: """
            The text is plain text: control-token texts such as [INST] stay text unless --parse-special \
            is given. Only the file's metadata is read.
            """
    )

    @Option(name: .long, help: "The GGUF model (or vocabulary): a file, or a name in the models directory.")
    var model: String

    @Argument(help: "The text to tokenize; - reads it from standard input.")
    var text: String

    @Flag(help: "Also print each token's piece.")
    var pieces = false

    @Flag(help: "Add BOS/EOS as the model asks (tokenizer.ggml.add_bos_token).")
    var addSpecial = false

    @Flag(help: "Parse control-token texts (trusted template text only).")
    var parseSpecial = false

    public init() {}

    public func run() throws {
        let model = try ModelArgument.path(self.model, command: "tokenize")
        let tokenizer: Tokenizer
        do {
            tokenizer = try Tokenizer(path: model)
        } catch {
            var stderr = StandardError()
            print("brise tokenize: \(model): \(error)", to: &stderr)
            throw ExitCode.failure
        }
        let text: String
        do {
            text = try TextArgument.resolve(self.text)
        } catch {
            var stderr = StandardError()
            print("brise tokenize: \(error)", to: &stderr)
            throw ExitCode(66)
        }
        let ids = tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
        if pieces {
            for id in ids {
                let piece = String(decoding: try tokenizer.pieceBytes(id), as: UTF8.self)
                print("\(id)\t\(piece.debugDescription)")
            }
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }
}
