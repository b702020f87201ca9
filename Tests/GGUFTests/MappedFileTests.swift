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

    /// Opening a FIFO must not wait for a writer: it is refused at once. The opens run on a thread of
    /// their own, timed from when they start (a suite-wide time limit also counts the time the test
    /// waits for a thread while other suites load both cores: it failed that way under load).
    @Test func refusesFIFOsAndDirectoriesWithoutBlocking() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("brise-fifo-\(UUID())").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        final class Outcomes: @unchecked Sendable {  // written by the opener before it signals `done`
            var refused: [Bool] = []
        }
        let outcomes = Outcomes()
        let done = DispatchSemaphore(value: 0)
        let opener = Thread {
            for candidate in [path, "/tmp", "/nonexistent/model.gguf"] {
                let refused: Bool
                do {
                    _ = try MappedFile(path: candidate)
                    refused = false
                } catch {
                    refused = error is GGUFError
                }
                outcomes.refused.append(refused)
            }
            done.signal()
        }
        opener.start()
        // A FIFO open that waited for a writer would never return: 30 s is far beyond any real open.
        let finished = done.wait(timeout: .now() + 30) == .success
        #expect(finished, "opening a FIFO blocked")
        if finished { #expect(outcomes.refused == [true, true, true]) }
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
