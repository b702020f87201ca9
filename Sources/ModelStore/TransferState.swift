import Foundation


/// The state of one pull's transfers: the partial file, the running hash and what the last answer
/// means. `ModelPull` owns it; the HTTP callbacks update it.
final class TransferState: @unchecked Sendable {
    // @unchecked Sendable: during a transfer only the HTTP callbacks touch this object, one at a time on
    // the session's serial delegate queue; between transfers only the pulling thread does, and the
    // transfer's completion semaphore orders the two.

    /// What the last answer means for the pull.
    enum Verdict {
        /// The body is being (or was) received; the outcome decides.
        case receiving
        /// The file is complete (a 416 for a range starting at its end).
        case complete
        /// Start the file over from byte 0 (a `Content-Range` that does not continue it).
        case restart(String)
        /// Try again later (408, 429, 5xx).
        case retry(String)
        /// Give up with this error.
        case fatal(ModelStoreError)
    }

    let part: PartialFile
    var hasher: SHA256
    /// The file's full size, once an answer said it.
    var total: Int?
    /// A strong `ETag` (or `Last-Modified`) of the file, sent as `If-Range` when resuming, so a file
    /// that changed on the server comes back whole (200) instead of spliced.
    var validator: String?
    private(set) var verdict: Verdict = .receiving
    private let source: PullSource
    private let freeBytes: () -> Int?
    private let progress: @Sendable (PullProgress) -> Void
    private var attempt = 0
    private var attemptStart = 0

    init(
        part: PartialFile, hasher: SHA256, source: PullSource, freeBytes: @escaping () -> Int?,
        progress: @escaping @Sendable (PullProgress) -> Void
    ) {
        self.part = part
        self.hasher = hasher
        self.source = source
        self.freeBytes = freeBytes
        self.progress = progress
    }

    /// Starts a new attempt from the partial file's end.
    func begin(attempt: Int) {
        self.attempt = attempt
        attemptStart = part.size
        verdict = .receiving
    }

    /// Judges an answer's head; `false` stops the transfer.
    func receive(head: HTTPStreamingGet.Head) -> Bool {
        let start = part.size
        let url = source.url.absoluteString
        switch head.status {
        case 206:
            let header = head.headers["content-range"]
            guard let header, let range = ContentRange(header), range.start == start,
                range.total.map({ range.end == $0 - 1 }) ?? true
            else {
                verdict = .restart(
                    "the server's Content-Range (\(header ?? "none")) does not continue the file at byte \(start)")
                return false
            }
            if let length = contentLength(head), length != range.end - range.start + 1 {
                verdict = .restart("the server's Content-Length \(length) disagrees with its Content-Range \(header)")
                return false
            }
            total = range.total
        case 200:
            if start > 0 {
                // The server ignored the Range (or If-Range found the file changed): the body is the
                // whole file, so the partial file starts over and takes it from byte 0.
                do {
                    try part.truncate()
                } catch {
                    verdict = .fatal(error as? ModelStoreError ?? ModelStoreError(.io, "\(error)"))
                    return false
                }
                hasher = SHA256()
                attemptStart = 0
                progress(
                    PullProgress(
                        phase: .restarting(
                            reason: "the server sent the whole file instead of the range from byte \(start)"),
                        receivedBytes: 0, totalBytes: contentLength(head), attemptStart: 0, attempt: attempt))
            }
            total = contentLength(head)
        case 416 where start > 0:
            if let total = head.headers["content-range"].flatMap(ContentRange.unsatisfiedTotal), total == start {
                self.total = total
                verdict = .complete
            } else {
                verdict = .restart("the server cannot send a range from byte \(start) (HTTP 416)")
            }
            return false
        case 408, 429, 500...599:
            verdict = .retry("HTTP \(head.status) from \(url)")
            return false
        default:
            verdict = .fatal(
                ModelStoreError(
                    .httpStatus,
                    "\(url) answered HTTP \(head.status)\(Self.reason(head.status).map { " (\($0))" } ?? "")"
                ))
            return false
        }
        if let expected = source.expectedSize, let total, total != expected {
            verdict = .fatal(
                ModelStoreError(.sizeMismatch, "\(url) is \(total) bytes on the server, expected \(expected)"))
            return false
        }
        if let total, let free = freeBytes(), free < total - part.size {
            verdict = .fatal(
                ModelStoreError(
                    .noSpace, "\(total - part.size) more bytes are needed for \(part.path), \(free) are free"))
            return false
        }
        if let tag = head.headers["etag"], !tag.hasPrefix("W/") {
            validator = tag
        } else if let modified = head.headers["last-modified"] {
            validator = modified
        }
        report()
        return true
    }

    /// Writes and hashes a piece of the body; `false` stops the transfer.
    func receive(body: Data) -> Bool {
        do {
            try part.append(body)
        } catch {
            verdict = .fatal(error as? ModelStoreError ?? ModelStoreError(.io, "\(error)"))
            return false
        }
        hasher.update(body)
        if let limit = total ?? source.expectedSize, part.size > limit {
            verdict = .fatal(
                ModelStoreError(
                    .sizeMismatch, "\(source.url.absoluteString) sent more than \(limit) bytes"))
            return false
        }
        report()
        return true
    }

    private func report() {
        progress(
            PullProgress(
                phase: .downloading, receivedBytes: part.size, totalBytes: total ?? source.expectedSize,
                attemptStart: attemptStart, attempt: attempt))
    }

    private func contentLength(_ head: HTTPStreamingGet.Head) -> Int? {
        head.headers["content-length"].flatMap { Int($0.trimmingSpaces()) }.flatMap { $0 >= 0 ? $0 : nil }
    }

    /// The usual reason phrase of an HTTP status.
    static func reason(_ status: Int) -> String? {
        [
            400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found", 410: "gone",
            416: "range not satisfiable", 429: "too many requests", 500: "internal server error",
            502: "bad gateway", 503: "service unavailable", 504: "gateway timeout",
        ][status]
    }
}
