import Foundation
import GGUF
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Downloads a model into the models directory, resumably, and moves it into place only once it is
/// known good.
///
/// The bytes go to `<models>/.partial/<name>.part` (locked against a second pull of the same name).
/// A dropped connection is retried with `Range: bytes=N-` from what is on disk; a `206` must carry a
/// `Content-Range` that continues at byte N, and a `200` (a server that ignores ranges) restarts the
/// file from byte 0. When the download is complete it is `fsync`ed and checked: size and SHA-256 when
/// known, and that it parses as GGUF. Only then is it renamed to `<models>/<name>` (the same file
/// system, so the rename is atomic) and the directory `fsync`ed. A half file never carries the final
/// name; a model already mapped by a running process is replaced by a new inode, never rewritten.
public struct ModelPull: Sendable {
    /// The models directory.
    public var directory: String
    /// Retry and timeout settings.
    public var options: PullOptions

    /// Creates a puller.
    ///
    /// - Parameters:
    ///   - directory: The models directory (created if missing).
    ///   - options: Retry and timeout settings.
    public init(directory: String, options: PullOptions = PullOptions()) {
        self.directory = directory
        self.options = options
    }

    /// Where partial downloads are kept: a hidden directory inside the models directory, so the final
    /// rename never crosses file systems and `brise models` does not list them.
    public var partialDirectory: String { directory + "/.partial" }

    /// Pulls `source`, blocking until it is in place or has failed.
    ///
    /// A file already under the final name is kept when it matches the known size and hash (or when
    /// none is known) and reported as already present.
    ///
    /// - Parameters:
    ///   - source: What to fetch and check.
    ///   - progress: Called with each report, from the download's thread.
    /// - Returns: The final path, size and hash.
    /// - Throws: `ModelStoreError`. After `.network` (retries exhausted), `.noSpace`, `.busy` or `.io` the
    ///   partial file stays for the next pull to resume; after the others it is removed.
    public func pull(
        _ source: PullSource, progress: @escaping @Sendable (PullProgress) -> Void = { _ in }
    ) throws -> PullResult {
        let finalPath = directory + "/" + source.fileName
        if FileManager.default.fileExists(atPath: finalPath) {
            return try existing(finalPath, source)
        }
        try createDirectory(directory)
        try createDirectory(partialDirectory)
        let part = try PartialFile(path: partialDirectory + "/" + source.fileName + ".part")
        defer { part.close() }
        do {
            let transfer = try download(source, into: part, progress: progress)
            progress(
                PullProgress(
                    phase: .verifying, receivedBytes: part.size, totalBytes: part.size, attemptStart: part.size,
                    attempt: transfer.attempts))
            try part.sync()
            let hash = transfer.hasher.hexDigest()
            try verify(part: part, hash: hash, source: source)
            try publish(part.path, as: finalPath)
            return PullResult(
                path: finalPath, size: part.size, sha256: hash, alreadyPresent: false, resumed: transfer.resumed,
                attempts: transfer.attempts)
        } catch let error as ModelStoreError {
            let keep: Set<ModelStoreError.Code> = [.network, .noSpace, .busy, .io]
            if !keep.contains(error.code) { unlink(part.path) }
            throw error
        }
    }

    // MARK: - Download

    private struct Transfer {
        var hasher: SHA256
        var attempts: Int
        var resumed: Bool
    }

    private func download(
        _ source: PullSource, into part: PartialFile, progress: @escaping @Sendable (PullProgress) -> Void
    ) throws -> Transfer {
        if let expected = source.expectedSize, part.size > expected { try part.truncate() }
        let state = TransferState(
            part: part, hasher: try part.hashContents(), source: source,
            freeBytes: { [partialDirectory] in
                Self.freeBytes(partialDirectory)
            }, progress: progress)
        let client = HTTPStreamingGet(idleTimeout: options.idleTimeout)
        var failures = 0
        var attempts = 0
        var resumed = false
        while true {
            let start = part.size
            if start > 0, let total = state.total ?? source.expectedSize, start == total {
                // Complete on disk already (an earlier pull died before renaming it).
                return Transfer(hasher: state.hasher, attempts: attempts, resumed: resumed)
            }
            attempts += 1
            var headers: [String: String] = [:]
            if start > 0 {
                headers["Range"] = "bytes=\(start)-"
                if let validator = state.validator { headers["If-Range"] = validator }
                resumed = true
            }
            state.begin(attempt: attempts)
            let outcome = client.run(
                url: source.url, headers: headers, onHead: { state.receive(head: $0) },
                onBody: { state.receive(body: $0) })

            let reason: String
            switch state.verdict {
            case .fatal(let error):
                throw error
            case .complete:
                return Transfer(hasher: state.hasher, attempts: attempts, resumed: resumed)
            case .restart(let why):
                try part.truncate()
                state.hasher = SHA256()
                state.total = nil
                progress(
                    PullProgress(
                        phase: .restarting(reason: why), receivedBytes: 0, totalBytes: nil, attemptStart: 0,
                        attempt: attempts))
                reason = why
            case .retry(let why):
                reason = why
            case .receiving:
                switch outcome {
                case .completed:
                    guard let total = state.total, part.size != total else {
                        return Transfer(hasher: state.hasher, attempts: attempts, resumed: resumed)
                    }
                    reason = "the answer ended at byte \(part.size) of \(total)"
                case .failed(let why):
                    reason = part.size > 0 ? "\(why) at byte \(part.size)" : why
                case .stopped:
                    reason = "the transfer stopped at byte \(part.size)"
                }
            }
            // A retry after progress starts a fresh count: only attempts that get nowhere use it up.
            failures = part.size > start ? 1 : failures + 1
            guard failures <= options.maxRetries else {
                let kept = part.size > 0 ? "; the \(part.size) bytes so far are kept: pull again to resume" : ""
                throw ModelStoreError(
                    .network, "\(source.url.absoluteString): \(reason); gave up after \(attempts) attempts\(kept)")
            }
            let delay = min(options.retryDelay * pow(2, Double(failures - 1)), options.maxRetryDelay)
            progress(
                PullProgress(
                    phase: .retrying(reason: reason, delay: delay), receivedBytes: part.size, totalBytes: state.total,
                    attemptStart: start, attempt: attempts))
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        }
    }

    // MARK: - Checks and publishing

    private func verify(part: PartialFile, hash: String, source: PullSource) throws {
        if let expected = source.expectedSize, part.size != expected {
            throw ModelStoreError(
                .sizeMismatch, "\(source.url.absoluteString): downloaded \(part.size) bytes, expected \(expected)")
        }
        if let expected = source.expectedSHA256, hash != expected {
            throw ModelStoreError(
                .hashMismatch, "\(source.url.absoluteString): the download's SHA-256 is \(hash), expected \(expected)")
        }
        do {
            _ = try GGUFFile(path: part.path)
        } catch let error as GGUFError {
            // The GGUF error's code and offset go into the message; `underlying` keeps the error itself
            // for callers, but is left out so the description does not say it twice.
            var failure = ModelStoreError(
                .invalidGGUF,
                "\(source.url.absoluteString) is not a valid GGUF file (\(error.code)): \(error.message)"
                    + (error.offset.map { " at byte \($0)" } ?? ""))
            failure.ggufError = error
            throw failure
        }
    }

    private func publish(_ partPath: String, as finalPath: String) throws {
        guard rename(partPath, finalPath) == 0 else {
            throw ModelStoreError(.io, "cannot rename \(partPath) to \(finalPath)", underlying: Errno(rawValue: errno))
        }
        // The rename is durable once the directory entry is on disk.
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else {
            throw ModelStoreError(.io, "cannot open \(directory) to fsync it", underlying: Errno(rawValue: errno))
        }
        defer { Glibc.close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 else {
            throw ModelStoreError(.io, "cannot fsync \(directory)", underlying: Errno(rawValue: errno))
        }
    }

    private func existing(_ path: String, _ source: PullSource) throws -> PullResult {
        let (size, hash) = try SHA256.hashFile(atPath: path)
        if let expected = source.expectedSize, size != expected {
            throw ModelStoreError(
                .alreadyExists, "\(path) exists with \(size) bytes, expected \(expected): remove it to pull again")
        }
        if let expected = source.expectedSHA256, hash != expected {
            throw ModelStoreError(
                .alreadyExists, "\(path) exists with SHA-256 \(hash), expected \(expected): remove it to pull again")
        }
        return PullResult(path: path, size: size, sha256: hash, alreadyPresent: true, resumed: false, attempts: 0)
    }

    private func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ModelStoreError(.io, "cannot create the directory \(path): \(error.localizedDescription)")
        }
    }

    /// Bytes an unprivileged writer can still use on the file system holding `path`, or `nil`.
    static func freeBytes(_ path: String) -> Int? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let (bytes, overflow) = Int(info.f_bavail).multipliedReportingOverflow(by: Int(info.f_frsize))
        return overflow ? Int.max : bytes
    }
}
