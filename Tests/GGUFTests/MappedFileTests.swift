import Foundation
import GGUF
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite struct MappedFileTests {
    @Test func mapsAFileReadOnly() throws {
        let file = try MappedFile(path: Fixtures.path("gguf/tiny-v3.gguf"))
        #expect(file.count == 13_024)
        file.withUnsafeBytes { #expect(Array($0.prefix(4)) == Array("GGUF".utf8)) }
        try file.advise(.sequential)
        try file.advise(.willNeed, range: 100..<5000)
        try file.lock(range: 0..<4096)
        try file.unlock(range: 0..<4096)
        #expect(throws: GGUFError.self) { try file.advise(.random, range: 0..<(file.count + 1)) }
    }

    @Test func emptyFileMapsToNoBytes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("brise-empty-\(UUID())").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        defer { unlink(path) }
        let file = try MappedFile(path: path)
        #expect(file.count == 0)
        #expect(throws: GGUFError.self) { try GGUFFile(file: file) }
    }

    /// Opening a FIFO must not wait for a writer: it is refused at once.
    @Test(.timeLimit(.minutes(1))) func refusesFIFOsAndDirectoriesWithoutBlocking() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("brise-fifo-\(UUID())").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        #expect(throws: GGUFError.self) { try MappedFile(path: path) }
        #expect(throws: GGUFError.self) { try MappedFile(path: "/tmp") }
        #expect(throws: GGUFError.self) { try MappedFile(path: "/nonexistent/model.gguf") }
    }

    @Test func errorsCarryTheSystemError() {
        do {
            _ = try MappedFile(path: "/nonexistent/model.gguf")
        } catch let error as GGUFError {
            #expect(error.code == .io)
            #expect(error.description.contains("/nonexistent/model.gguf"))
            #expect(error.underlying != nil)
        } catch {
            Issue.record("\(error)")
        }
    }
}
