public import ArgumentParser
import Foundation
import Tokenization

/// `brise bench tokenizer --model FILE [--text FILE]`: tokenizer throughput in MB/s.
public struct BenchTokenizer: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Measure how fast a model's tokenizer encodes text (build with -c release).",
        discussion: "scripts/bench-tokenizer.py runs this beside llama.cpp's tokenizer on the same text and prints the ratio."
    )

    @Option(name: .long, help: "The GGUF model (or vocabulary) file.")
    var model: String

    @Option(name: .long, help: "A UTF-8 text file to tokenize (default: the built-in 1 MB mixed text).")
    var text: String?

    @Option(help: "How many timed runs (the best one is reported).")
    var runs = 5

    public init() {}

    /// About 1 MB of mixed text: prose, accented Latin, Cyrillic, CJK, emoji, code, numbers.
    static func mixedText() -> String {
        let parts = [
            "The quick brown fox jumps over the lazy dog while the rain falls on the old roof. ",
            "Français : déjà vu, où était l'été ? Straße, Größe, Übermäßig schön. ",
            "Привет мир, как дела? Съешь же ещё этих мягких французских булок. ",
            "你好世界，这是一个测试。こんにちは世界、日本語の文章です。안녕하세요 세계. ",
            "Emoji 😀👍🏽👨‍👩‍👧‍👦🇫🇷 ✨🔥 ",
            "def f(x):\n    return x**2 + 3.14159 * x - 42\n\tfor (int i = 0; i < n; ++i) { sum += a[i]; }\n",
            "Numbers 1234567890, 3.5e-7, $19.99, 2024-07-18T12:00:00Z.\n\n",
        ]
        var text = ""
        var index = 0
        while text.utf8.count < 1_000_000 {
            text += parts[index % parts.count]
            index += 1
        }
        return text
    }

    public func run() throws {
        let tokenizer = try Tokenizer(path: model)
        let input = try text.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? Self.mixedText()
        let bytes = input.utf8.count
        var best = Double.infinity
        var count = 0
        for _ in 0..<max(runs, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            count = tokenizer.encode(input).count
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = min(best, seconds)
        }
        let rate = Double(bytes) / best / 1e6
        print("bytes \(bytes) tokens \(count) seconds \(String(format: "%.4f", best)) MB/s \(String(format: "%.2f", rate))")
    }
}
