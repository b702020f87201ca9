import Foundation
import ModelStore
import Testing

/// What `brise pull`'s argument means: a URL or a known name.
@Suite struct PullSourceTests {
    @Test func urlsNameTheFileByTheirLastComponent() throws {
        let source = try PullSource.resolve(
            "https://example.org/org/repo/resolve/abc/Model-Q4_K_M.gguf?download=true")
        #expect(source.fileName == "Model-Q4_K_M.gguf")
        #expect(source.expectedSize == nil)
        #expect(source.expectedSHA256 == nil)
        #expect(try PullSource.resolve("http://127.0.0.1:8080/files/tiny").fileName == "tiny.gguf")
        let hashed = try PullSource.resolve("http://h/x.gguf", sha256: "sha256:" + String(repeating: "AB", count: 32))
        #expect(hashed.expectedSHA256 == String(repeating: "ab", count: 32))
    }

    @Test(arguments: ["ftp://h/x.gguf", "file:///etc/passwd", "http://h/", "http://h/.hidden.gguf", "http:///x.gguf"])
    func badURLsAreRefused(argument: String) {
        let error = #expect(throws: ModelStoreError.self) { try PullSource.resolve(argument) }
        #expect(error?.code == .invalidSource)
    }

    @Test func badHashesAreRefused() {
        for hash in ["abc", String(repeating: "g", count: 64), String(repeating: "a", count: 65)] {
            let error = #expect(throws: ModelStoreError.self) {
                try PullSource.resolve("http://h/x.gguf", sha256: hash)
            }
            #expect(error?.code == .invalidSource)
        }
    }

    @Test func knownNamesBringTheirPinnedURLSizeAndHash() throws {
        let source = try PullSource.resolve("Ministral-3-3B")
        #expect(
            source.url.absoluteString
                == "https://huggingface.co/mistralai/Ministral-3-3B-Instruct-2512-GGUF/resolve/"
                + "eb599d408350ea2bb60452cb86be7c7b2fc28227/Ministral-3-3B-Instruct-2512-Q4_K_M.gguf")
        #expect(source.fileName == "Ministral-3-3B-Instruct-2512-Q4_K_M.gguf")
        #expect(source.expectedSize == 2_147_023_008)
        #expect(source.expectedSHA256 == "9ed150d4367e68df0ac8e1540f6ddc65b42d0ee26378329d1ecbca60f93fc5f8")
        #expect(
            try PullSource.resolve("ministral-3-8b-instruct").fileName == "Ministral-3-8B-Instruct-2512-Q4_K_M.gguf")
        // Every table entry is an https URL on mistralai's own repository whose file is the entry's file.
        for known in KnownModels.all {
            let url = try #require(URL(string: known.url))
            #expect(url.scheme == "https")
            #expect(known.url.hasPrefix("https://huggingface.co/mistralai/"))
            #expect(url.lastPathComponent == known.fileName)
            #expect(known.sha256?.count == 64)
        }
    }

    @Test func unknownNamesSayWhatIsKnown() {
        let error = #expect(throws: ModelStoreError.self) { try PullSource.resolve("llama-70b") }
        #expect(error?.code == .unknownModel)
        #expect(error?.message.contains("ministral-3-3b") == true)
    }
}
