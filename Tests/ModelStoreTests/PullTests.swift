import Foundation
import GGUF
import ModelStore
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `ModelPull` against a local HTTP server that drops connections, ignores ranges and lies.
@Suite struct PullTests {
    /// A models directory, a server and a model it serves.
    final class Setup {
        let server: LocalHTTPServer
        let directory: URL
        let model: [UInt8]
        let modelSHA256: String

        init() throws {
            server = try LocalHTTPServer()
            directory = try StoreFixtures.temporaryDirectory("pull")
            model = try StoreFixtures.model()
            modelSHA256 = try StoreFixtures.referenceSHA256(model)
            try server.serve(model, as: "m.gguf")
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        var puller: ModelPull {
            ModelPull(directory: directory.path, options: PullOptions(maxRetries: 3, retryDelay: 0.01, idleTimeout: 10))
        }

        func source(_ mode: String, _ name: String = "m.gguf", size: Int? = nil, sha256: String? = nil) -> PullSource {
            PullSource(
                url: URL(string: server.url(mode, name))!, fileName: name, expectedSize: size, expectedSHA256: sha256)
        }

        var finalPath: String { directory.appendingPathComponent("m.gguf").path }
        var partPath: String { directory.appendingPathComponent(".partial/m.gguf.part").path }

        func bytes(at path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

        /// Leaves the first `count` bytes of `content` as an earlier pull's partial file.
        func leavePartial(_ content: [UInt8], count: Int) throws {
            try FileManager.default.createDirectory(
                atPath: directory.appendingPathComponent(".partial").path, withIntermediateDirectories: true)
            try Data(content.prefix(count)).write(to: URL(fileURLWithPath: partPath))
        }

        /// Nothing under the final name, nothing partial.
        func expectNothingLeft(sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(!FileManager.default.fileExists(atPath: finalPath), sourceLocation: sourceLocation)
            #expect(!FileManager.default.fileExists(atPath: partPath), sourceLocation: sourceLocation)
        }
    }

    /// Collects progress reports from the download thread.
    final class Reports: Sendable {
        private let list = Mutex<[PullProgress]>([])
        var all: [PullProgress] { list.withLock { $0 } }
        var callback: @Sendable (PullProgress) -> Void { { report in self.list.withLock { $0.append(report) } } }
    }

    @Test func resumesAfterTheConnectionDropsMidway() throws {
        let setup = try Setup()
        let reports = Reports()
        let result = try setup.puller.pull(
            setup.source("drop-once", size: setup.model.count, sha256: setup.modelSHA256), progress: reports.callback)

        #expect(result.path == setup.finalPath)
        #expect(try setup.bytes(at: setup.finalPath) == setup.model)
        #expect(result.sha256 == setup.modelSHA256)
        #expect(result.size == setup.model.count)
        #expect(result.resumed)
        #expect(result.attempts == 2)
        #expect(!FileManager.default.fileExists(atPath: setup.partPath))

        let requests = try setup.server.requests()
        #expect(requests.count == 2)
        #expect(requests.first?.range == nil)
        #expect(requests.first?.status == 200)
        // The second request asks for the rest: from the byte where the first one's bytes end.
        let second = try #require(requests.last)
        let resumeOffset = try #require(second.range.flatMap { Int($0.dropFirst("bytes=".count).dropLast()) })
        #expect(second.range == "bytes=\(resumeOffset)-")
        #expect(resumeOffset > 0 && resumeOffset < setup.model.count)
        #expect(second.status == 206)
        #expect(second.if_range == "\"v1-\(setup.model.count)\"")

        let phases = reports.all.map(\.phase)
        #expect(phases.contains { if case .retrying = $0 { true } else { false } })
        #expect(phases.last == .verifying)
        #expect(reports.all.contains { $0.phase == .downloading && $0.attemptStart == resumeOffset })
    }

    @Test func notFoundIsAClearErrorAndLeavesNothing() throws {
        let setup = try Setup()
        let error = #expect(throws: ModelStoreError.self) {
            try setup.puller.pull(setup.source("files", "missing.gguf"))
        }
        #expect(error?.code == .httpStatus)
        #expect(error?.message.contains("HTTP 404") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: setup.directory.appendingPathComponent("missing.gguf").path))
        #expect(
            !FileManager.default.fileExists(
                atPath: setup.directory.appendingPathComponent(".partial/missing.gguf.part").path))
        #expect(try setup.server.requests().count == 1)  // a 404 is not retried
    }

    @Test func aWrongHashLeavesNoFile() throws {
        let setup = try Setup()
        let other = try StoreFixtures.referenceSHA256(Array("other".utf8))
        let error = #expect(throws: ModelStoreError.self) {
            try setup.puller.pull(setup.source("files", sha256: other))
        }
        #expect(error?.code == .hashMismatch)
        #expect(error?.message.contains(setup.modelSHA256) == true)
        setup.expectNothingLeft()
    }

    @Test func aWrongSizeIsRefusedBeforeDownloading() throws {
        let setup = try Setup()
        let error = #expect(throws: ModelStoreError.self) {
            try setup.puller.pull(setup.source("files", size: setup.model.count + 1))
        }
        #expect(error?.code == .sizeMismatch)
        setup.expectNothingLeft()
    }

    @Test func aFileThatIsNotGGUFIsRefused() throws {
        let setup = try Setup()
        try setup.server.serve(Array(String(repeating: "<html>not a model</html>\n", count: 100).utf8), as: "page.gguf")
        let error = #expect(throws: ModelStoreError.self) {
            try setup.puller.pull(setup.source("files", "page.gguf"))
        }
        #expect(error?.code == .invalidGGUF)
        #expect(error?.message.contains("not a valid GGUF") == true)
        #expect(
            FileManager.default.enumerator(atPath: setup.directory.path)?.allObjects.contains {
                "\($0)".hasSuffix("page.gguf") || "\($0)".hasSuffix(".part")
            } == false)
    }

    @Test func aPartialFileFromAnEarlierPullIsResumed() throws {
        let setup = try Setup()
        let half = setup.model.count / 2
        try setup.leavePartial(setup.model, count: half)
        let result = try setup.puller.pull(setup.source("files", sha256: setup.modelSHA256))
        #expect(result.resumed)
        #expect(try setup.bytes(at: setup.finalPath) == setup.model)
        let requests = try setup.server.requests()
        #expect(requests.map(\.range) == ["bytes=\(half)-"])
        #expect(requests.map(\.status) == [206])
    }

    @Test func aCompletePartialFileIsCheckedAndMovedWithoutDownloading() throws {
        // An earlier pull got every byte but died before the rename.
        let setup = try Setup()
        try setup.leavePartial(setup.model, count: setup.model.count)
        let known = try setup.puller.pull(setup.source("files", size: setup.model.count, sha256: setup.modelSHA256))
        #expect(known.attempts == 0)
        #expect(try setup.server.requests().isEmpty)
        #expect(try setup.bytes(at: setup.finalPath) == setup.model)

        // Without a known size, the server's 416 for a range at the end says the file is complete.
        try FileManager.default.removeItem(atPath: setup.finalPath)
        try setup.leavePartial(setup.model, count: setup.model.count)
        let unknown = try setup.puller.pull(setup.source("files"))
        #expect(unknown.sha256 == setup.modelSHA256)
        #expect(try setup.server.requests().map(\.status) == [416])
        #expect(try setup.bytes(at: setup.finalPath) == setup.model)
    }

    /// A disk slower than the network slows the download instead of piling it up in memory: each
    /// piece is written before the next is read from the socket, so the process's memory stays flat
    /// while a 16 MB file arrives through a consumer that takes its time.
    @Test func aDiskSlowerThanTheNetworkSlowsTheTransferInsteadOfBufferingIt() throws {
        let setup = try Setup()
        var big = try TinyGGUF.model(shape: .init(embedding: 128, vocabulary: 4096), seed: 11).serialized()
        big += [UInt8](repeating: 0, count: (16 << 20) - big.count)  // padding after the data section
        try setup.server.serve(big, as: "big.gguf")
        // The process's RSS is the measure, and other suites run in this process at the same time:
        // a neighbour's allocation can land inside one pull. Buffering the download would grow the
        // RSS by ~16 MiB on every pull, so the smallest growth of up to three pulls is what counts.
        var growths: [Int] = []
        for attempt in 0..<3 {
            let puller = ModelPull(
                directory: setup.directory.appendingPathComponent("attempt-\(attempt)").path,
                options: PullOptions(maxRetries: 2, retryDelay: 0.01, idleTimeout: 10))
            let before = Self.residentBytes()
            let state = Mutex((calls: 0, peak: before))
            let result = try puller.pull(setup.source("files", "big.gguf", size: big.count)) { _ in
                let calls = state.withLock { $0.calls += 1; return $0.calls }
                if calls % 8 == 0 {
                    usleep(2_000)
                    let now = Self.residentBytes()
                    state.withLock { $0.peak = max($0.peak, now) }
                }
            }
            #expect(try setup.bytes(at: result.path) == big)
            #expect(try setup.server.requests().count == attempt + 1, "one request per pull: nothing paused or restarted")
            growths.append(state.withLock { $0.peak } - before)
            if growths.last! < 12 << 20 { break }
        }
        #expect(growths.min()! < 12 << 20, "memory grew \(growths.map { $0 >> 20 }) MiB while 16 MiB arrived through a slow disk")
    }

    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func aServerThatIgnoresRangesRestartsTheFile() throws {
        let setup = try Setup()
        // A partial file of garbage: if any of it stayed, the hash below would not match.
        try setup.leavePartial([UInt8](repeating: 0xAA, count: 5000), count: 5000)
        let reports = Reports()
        let result = try setup.puller.pull(
            setup.source("no-range", sha256: setup.modelSHA256), progress: reports.callback)
        #expect(try setup.bytes(at: setup.finalPath) == setup.model)
        #expect(result.sha256 == setup.modelSHA256)
        let requests = try setup.server.requests()
        #expect(requests.map(\.range) == ["bytes=5000-"])
        #expect(requests.map(\.status) == [200])
        #expect(reports.all.contains { if case .restarting = $0.phase { true } else { false } })
    }

    @Test func aContentRangeThatDoesNotContinueTheFileRestartsIt() throws {
        let setup = try Setup()
        try setup.leavePartial([UInt8](repeating: 0x55, count: 3000), count: 3000)
        let result = try setup.puller.pull(setup.source("bad-range", sha256: setup.modelSHA256))
        #expect(try setup.bytes(at: setup.finalPath) == setup.model)
        #expect(result.attempts == 2)
        let requests = try setup.server.requests()
        #expect(requests.map(\.range) == ["bytes=3000-", nil])
        #expect(requests.map(\.status) == [206, 200])
    }

    @Test func aServerErrorIsRetried() throws {
        let setup = try Setup()
        let result = try setup.puller.pull(setup.source("flaky", sha256: setup.modelSHA256))
        #expect(result.attempts == 2)
        #expect(try setup.server.requests().map(\.status) == [503, 200])
    }

    @Test func retriesAreBoundedAndThePartialFileIsKeptForTheNextPull() throws {
        let setup = try Setup()
        // Every answer drops halfway: each attempt gets half of what is left, until half is nothing.
        let error = #expect(throws: ModelStoreError.self) {
            try setup.puller.pull(setup.source("drop-always", sha256: setup.modelSHA256))
        }
        #expect(error?.code == .network)
        #expect(error?.message.contains("pull again to resume") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: setup.finalPath))
        let kept = try setup.bytes(at: setup.partPath)
        #expect(kept.count > 0 && kept.count < setup.model.count)
        #expect(kept == Array(setup.model.prefix(kept.count)))

        // The next pull, from a server that behaves, asks only for the rest.
        let before = try setup.server.requests().count
        let result = try setup.puller.pull(setup.source("files", sha256: setup.modelSHA256))
        #expect(try setup.bytes(at: setup.finalPath) == setup.model)
        #expect(result.resumed)
        #expect(try setup.server.requests().dropFirst(before).map(\.range) == ["bytes=\(kept.count)-"])
    }

    @Test func aModelAlreadyInPlaceIsNotDownloadedAgain() throws {
        let setup = try Setup()
        _ = try setup.puller.pull(setup.source("files", sha256: setup.modelSHA256))
        let again = try setup.puller.pull(setup.source("files", sha256: setup.modelSHA256))
        #expect(again.alreadyPresent)
        #expect(again.sha256 == setup.modelSHA256)
        #expect(try setup.server.requests().count == 1)

        let other = try StoreFixtures.referenceSHA256(Array("other".utf8))
        let error = #expect(throws: ModelStoreError.self) {
            try setup.puller.pull(setup.source("files", sha256: other))
        }
        #expect(error?.code == .alreadyExists)
        #expect(try setup.bytes(at: setup.finalPath) == setup.model)  // the file in place is untouched
    }

    @Test func aSecondPullOfTheSameNameIsBusy() throws {
        let setup = try Setup()
        try setup.leavePartial(setup.model, count: 10)
        let descriptor = open(setup.partPath, O_RDWR)
        defer { close(descriptor) }
        #expect(flock(descriptor, LOCK_EX | LOCK_NB) == 0)
        let error = #expect(throws: ModelStoreError.self) {
            try setup.puller.pull(setup.source("files"))
        }
        #expect(error?.code == .busy)
        #expect(try setup.bytes(at: setup.partPath).count == 10)  // the other pull's bytes are untouched
    }
}
