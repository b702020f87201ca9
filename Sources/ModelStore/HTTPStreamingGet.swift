import Dispatch
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One HTTP GET whose answer is handed to callbacks as it arrives, blocking the caller until it ends.
///
/// Built on Foundation's `URLSession` (libcurl underneath on Linux: http and https, redirects followed
/// with the request's headers kept, so a `Range` survives Hugging Face's redirect to its CDN). The
/// callbacks run one at a time on the session's serial delegate queue. Either callback can stop the
/// transfer by returning `false`.
///
/// Foundation's URLSession on Linux has no flow control: libcurl's thread queues every received
/// chunk on the delegate queue without waiting, so a disk slower than the network would pile the
/// download up in memory (a whole 5 GB model, on a box with 2 GB). When more than
/// `maxPendingChunks` chunks wait, the transfer is cancelled, the chunks already queued are still
/// handed to `onBody` (they continue the file), and the outcome is `.paused`: the caller resumes from
/// what it wrote with a range request.
struct HTTPStreamingGet {
    /// The status line and headers of an answer (header names lowercased).
    struct Head: Sendable {
        var status: Int
        var headers: [String: String]
    }

    /// How a transfer ended.
    enum Outcome: Sendable {
        /// The whole body arrived.
        case completed
        /// A callback returned `false`.
        case stopped
        /// Too much data waited in memory; the transfer was closed after the queued data was handed over.
        case paused
        /// The connection failed, timed out or dropped before the body ended.
        case failed(String)
    }

    /// Seconds without any byte before the transfer counts as dropped.
    var idleTimeout: Double
    /// How many received chunks (16 KiB each from libcurl) may wait for `onBody` before the transfer
    /// pauses.
    var maxPendingChunks: Int

    /// Runs the request.
    ///
    /// - Parameters:
    ///   - url: The URL.
    ///   - headers: Request headers (`Range`, `If-Range`).
    ///   - onHead: Called once with the final answer's head (after redirects).
    ///   - onBody: Called with each piece of the body, in order.
    /// - Returns: How it ended.
    func run(
        url: URL, headers: [String: String], onHead: @escaping @Sendable (Head) -> Bool,
        onBody: @escaping @Sendable (Data) -> Bool
    ) -> Outcome {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = idleTimeout
        configuration.timeoutIntervalForResource = 7 * 24 * 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let delegate = Delegate(maxPendingChunks: maxPendingChunks, onHead: onHead, onBody: onBody)
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: queue)
        defer { session.finishTasksAndInvalidate() }

        var request = URLRequest(url: url)
        request.httpMethod = "GET"
        // Identity: a compressed body's byte offsets are not the file's, and ranges must be.
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        request.setValue("brise-model-store", forHTTPHeaderField: "User-Agent")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        session.dataTask(with: request).resume()
        delegate.done.wait()
        return delegate.outcome
    }

    private final class Delegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        // @unchecked Sendable: `stopped`, `pausing`, `failure` and `outcome` are written only by the
        // callbacks, which run one at a time on the session's serial delegate queue; `run` reads
        // `outcome` only after `done` is signalled by the last callback, and the semaphore orders that
        // read after the writes.
        let done = DispatchSemaphore(value: 0)
        private let onHead: @Sendable (Head) -> Bool
        private let onBody: @Sendable (Data) -> Bool
        private let maxPendingChunks: Int
        private var stopped = false
        private var pausing = false
        private var failure: String?
        private(set) var outcome: Outcome = .failed("no answer")

        init(
            maxPendingChunks: Int, onHead: @escaping @Sendable (Head) -> Bool,
            onBody: @escaping @Sendable (Data) -> Bool
        ) {
            self.maxPendingChunks = maxPendingChunks
            self.onHead = onHead
            self.onBody = onBody
        }

        func urlSession(
            _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
            completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
        ) {
            guard let http = response as? HTTPURLResponse else {
                stopped = true
                failure = "the answer is not HTTP"
                completionHandler(.cancel)
                return
            }
            var headers: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                headers[String(describing: name).lowercased()] = String(describing: value)
            }
            if onHead(Head(status: http.statusCode, headers: headers)) {
                completionHandler(.allow)
            } else {
                stopped = true
                completionHandler(.cancel)
            }
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            guard !stopped else { return }
            if !onBody(data) {
                stopped = true
                dataTask.cancel()
                return
            }
            if !pausing, session.delegateQueue.operationCount > maxPendingChunks {
                pausing = true
                dataTask.cancel()
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            if let failure {
                outcome = .failed(failure)
            } else if stopped {
                outcome = .stopped
            } else if pausing, error != nil {
                outcome = .paused
            } else if let error {
                outcome = .failed(Self.describe(error))
            } else {
                outcome = .completed
            }
            done.signal()
        }

        private static func describe(_ error: any Error) -> String {
            let error = error as NSError
            if let reason = error.userInfo[NSLocalizedDescriptionKey] as? String, !reason.isEmpty { return reason }
            return "\(error.domain) \(error.code)"
        }
    }
}
