/// How a pull retries and waits.
public struct PullOptions: Sendable {
    /// How many failed attempts in a row (without a byte of progress between them) end the pull.
    /// An attempt that made progress resets the count, so a long download on a flaky link finishes.
    public var maxRetries: Int
    /// The wait before the first retry, in seconds; it doubles per failure, up to `maxRetryDelay`.
    public var retryDelay: Double
    /// The longest wait between retries, in seconds.
    public var maxRetryDelay: Double
    /// Seconds without a byte before a connection counts as dropped.
    public var idleTimeout: Double

    /// Creates options.
    ///
    /// - Parameters:
    ///   - maxRetries: Failed attempts in a row before giving up (5).
    ///   - retryDelay: The first wait, in seconds (1).
    ///   - maxRetryDelay: The longest wait, in seconds (30).
    ///   - idleTimeout: Seconds of silence that count as a dropped connection (60).
    public init(maxRetries: Int = 5, retryDelay: Double = 1, maxRetryDelay: Double = 30, idleTimeout: Double = 60) {
        self.maxRetries = maxRetries
        self.retryDelay = retryDelay
        self.maxRetryDelay = maxRetryDelay
        self.idleTimeout = idleTimeout
    }
}

/// What a finished pull did.
public struct PullResult: Sendable {
    /// The model's final path.
    public var path: String
    /// Its size in bytes.
    public var size: Int
    /// Its SHA-256 as lowercase hex.
    public var sha256: String
    /// Whether the file was already in place (nothing was downloaded).
    public var alreadyPresent: Bool
    /// Whether some attempt resumed from a partial file with a `Range` request.
    public var resumed: Bool
    /// How many HTTP requests the pull made.
    public var attempts: Int

    /// Creates a result.
    ///
    /// - Parameters:
    ///   - path: The final path.
    ///   - size: The size in bytes.
    ///   - sha256: The SHA-256 hex.
    ///   - alreadyPresent: Whether nothing was downloaded.
    ///   - resumed: Whether a range request resumed a partial file.
    ///   - attempts: The number of requests.
    public init(path: String, size: Int, sha256: String, alreadyPresent: Bool, resumed: Bool, attempts: Int) {
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.alreadyPresent = alreadyPresent
        self.resumed = resumed
        self.attempts = attempts
    }
}
