/// The serving engine's decisions, as a value fed events and answering with actions (no threads, no
/// model): which request gets which slot, what each forward pass carries, who waits, who is refused,
/// who runs out of time. Generic over the clock so tests drive it with a manual one (like
/// `ThermalGovernor`).
///
/// Policy: requests are admitted first come, first served to a free slot — the one whose cache
/// shares the longest prefix with the prompt when the prompt continues that conversation (a chat
/// resends its history), else an empty slot, else the one idle longest (so recent conversations keep
/// their cache). Beyond the slots up to `queueLimit`
/// requests wait, each for at most `queueWait`; one more is `busy`. Each step decodes one token for
/// every sequence past its prompt and feeds waiting prompts `prefillChunk` tokens at most (first
/// admitted first), so a long prompt arriving late never stalls the running streams by more than one
/// chunk. On shutdown the waiting requests are refused and running ones end at the deadline.
public struct Scheduler<C: Clock>: Sendable where C.Duration == Duration {
    /// A request's identity (given by the caller, unique).
    public typealias ID = UInt64

    /// The limits.
    public struct Configuration: Sendable, Equatable {
        /// Sequences decoded side by side.
        public var slots: Int
        /// The most prompt tokens one step carries.
        public var prefillChunk: Int
        /// The most tokens one step carries in all (the forward pass's largest batch).
        public var maximumBatch: Int
        /// The most requests waiting for a slot.
        public var queueLimit: Int
        /// The longest a request waits for a slot.
        public var queueWait: Duration
        /// The longest a request runs once admitted.
        public var requestLimit: Duration

        public init(
            slots: Int, prefillChunk: Int = 256, maximumBatch: Int = 512, queueLimit: Int, queueWait: Duration,
            requestLimit: Duration
        ) {
            self.slots = max(1, slots)
            self.maximumBatch = max(self.slots + 1, maximumBatch)
            self.prefillChunk = min(max(1, prefillChunk), self.maximumBatch - self.slots)
            self.queueLimit = max(0, queueLimit)
            self.queueWait = queueWait
            self.requestLimit = requestLimit
        }
    }

    /// Why a request is refused before it runs.
    public enum Refusal: Sendable, Equatable {
        /// Every slot is taken and `limit` requests already wait.
        case busy(queued: Int, limit: Int)
        /// It waited for a slot longer than `queueWait`.
        case queueTimeout
        /// The engine is stopping.
        case shuttingDown
    }

    /// Why a running sequence must end now.
    public enum Ending: Sendable, Equatable {
        /// Its caller went away.
        case cancelled
        /// It ran longer than `requestLimit`.
        case requestTimeout
        /// The shutdown deadline passed.
        case shutdown
    }

    /// What the engine must do.
    public enum Action: Sendable, Equatable {
        /// Start `id` in `slot`, keeping the slot's first `reuse` cached positions (rewind to them; when
        /// the cache cannot, call `restart(_:)`).
        case admit(ID, slot: Int, reuse: Int)
        /// Refuse `id` (it never ran).
        case refuse(ID, Refusal)
        /// End the running `id`, then call `finish(_:cached:now:)`.
        case end(ID, Ending)
    }

    /// Prompt tokens of one sequence in a step.
    public struct Chunk: Sendable, Equatable {
        public var id: ID
        /// The prompt's positions this step evaluates.
        public var range: Range<Int>
        /// Whether this is the prompt's last chunk (its last token's logits are needed).
        public var isLast: Bool

        public init(id: ID, range: Range<Int>, isLast: Bool) {
            self.id = id
            self.range = range
            self.isLast = isLast
        }
    }

    /// What one forward pass carries.
    public struct Step: Sendable, Equatable {
        /// Sequences decoding one token each (their logits are needed).
        public var decode: [ID]
        /// Prompt chunks.
        public var prefill: [Chunk]
        public init(decode: [ID], prefill: [Chunk]) {
            self.decode = decode
            self.prefill = prefill
        }

        /// Tokens in all.
        public var tokenCount: Int { decode.count + prefill.reduce(0) { $0 + $1.range.count } }
    }

    private struct Waiting {
        let id: ID
        let prompt: [Int32]
        let deadline: C.Instant
    }

    private struct Running {
        let id: ID
        let slot: Int
        let promptCount: Int
        var fed: Int
        /// The step that evaluated the prompt's last chunk has been planned: the sequence decodes.
        var decoding: Bool
        let deadline: C.Instant
    }

    private enum Slot {
        /// Free, its cache holding `cached`, idle since `freed` (an ever-growing counter).
        case free(cached: [Int32], freed: UInt64)
        case busy(ID)
    }

    public let configuration: Configuration
    private var slots: [Slot]
    private var waiting: [Waiting] = []
    private var running: [Running] = []
    private var releases: UInt64 = 0
    private var shutdownDeadline: C.Instant?

    /// Creates a scheduler with every slot free and empty.
    public init(configuration: Configuration) {
        self.configuration = configuration
        slots = Array(repeating: .free(cached: [], freed: 0), count: configuration.slots)
    }

    // MARK: - Reading

    /// Sequences running (admitted to a slot).
    public var runningCount: Int { running.count }
    /// Requests waiting for a slot.
    public var waitingCount: Int { waiting.count }
    /// Whether nothing runs or waits.
    public var isIdle: Bool { running.isEmpty && waiting.isEmpty }
    /// Whether the engine is stopping.
    public var isShuttingDown: Bool { shutdownDeadline != nil }
    /// The slot of a running sequence.
    public func slot(of id: ID) -> Int? { running.first { $0.id == id }?.slot }

    /// The earliest moment `tick(now:)` has something to do (nil: nothing is timed).
    public var nextDeadline: C.Instant? {
        let all = waiting.map(\.deadline) + running.map(\.deadline) + (shutdownDeadline.map { [$0] } ?? [])
        return all.min()
    }

    // MARK: - Events

    /// A request arrives.
    public mutating func arrive(_ id: ID, prompt: [Int32], now: C.Instant) -> [Action] {
        guard shutdownDeadline == nil else { return [.refuse(id, .shuttingDown)] }
        let hasFreeSlot = waiting.isEmpty && slots.contains { if case .free = $0 { true } else { false } }
        guard hasFreeSlot || waiting.count < configuration.queueLimit else {
            return [.refuse(id, .busy(queued: waiting.count, limit: configuration.queueLimit))]
        }
        waiting.append(Waiting(id: id, prompt: prompt, deadline: now.advanced(by: configuration.queueWait)))
        return admit(now: now)
    }

    /// A request's caller went away: a waiting one leaves the line; a running one must end.
    public mutating func cancel(_ id: ID) -> [Action] {
        if let index = waiting.firstIndex(where: { $0.id == id }) {
            waiting.remove(at: index)
            return []
        }
        return running.contains { $0.id == id } ? [.end(id, .cancelled)] : []
    }

    /// The cache of `id`'s slot could not be rewound to the offered prefix: its prompt starts over.
    public mutating func restart(_ id: ID) {
        guard let index = running.firstIndex(where: { $0.id == id }) else { return }
        running[index].fed = 0
        running[index].decoding = false
    }

    /// The step planned more of `id`'s prompt than it evaluated (an image on the way was still being
    /// encoded): its prompt continues from `fed` (no further than planned) at the next step.
    public mutating func rewind(_ id: ID, to fed: Int) {
        guard let index = running.firstIndex(where: { $0.id == id }), fed >= 0, fed < running[index].fed else { return }
        running[index].fed = fed
        running[index].decoding = false
    }

    /// A running sequence ended (for any reason); its slot's cache now holds `cached`.
    public mutating func finish(_ id: ID, cached: [Int32], now: C.Instant) -> [Action] {
        guard let index = running.firstIndex(where: { $0.id == id }) else { return [] }
        let slot = running.remove(at: index).slot
        releases += 1
        slots[slot] = .free(cached: cached, freed: releases)
        return admit(now: now)
    }

    /// Time passed: requests that waited too long are refused; sequences past their limit or the
    /// shutdown deadline end.
    public mutating func tick(now: C.Instant) -> [Action] {
        var actions: [Action] = []
        waiting.removeAll { waiter in
            guard now >= waiter.deadline else { return false }
            actions.append(.refuse(waiter.id, .queueTimeout))
            return true
        }
        let shutdownPassed = shutdownDeadline.map { now >= $0 } ?? false
        for sequence in running {
            if shutdownPassed {
                actions.append(.end(sequence.id, .shutdown))
            } else if now >= sequence.deadline {
                actions.append(.end(sequence.id, .requestTimeout))
            }
        }
        return actions
    }

    /// The engine is stopping: waiting requests are refused, new ones too; running ones may finish
    /// until `deadline` (an earlier deadline given before stays).
    public mutating func shutdown(deadline: C.Instant) -> [Action] {
        shutdownDeadline = min(shutdownDeadline ?? deadline, deadline)
        defer { waiting.removeAll() }
        return waiting.map { .refuse($0.id, .shuttingDown) }
    }

    /// Plans the next forward pass: one token for every decoding sequence, then prompt chunks first
    /// admitted first within the step's budget. A prompt's chunks count as evaluated once planned.
    ///
    /// - Returns: The step, or nil when nothing runs.
    public mutating func nextStep() -> Step? {
        var step = Step(decode: running.filter(\.decoding).map(\.id), prefill: [])
        var budget = min(configuration.prefillChunk, configuration.maximumBatch - step.decode.count)
        for index in running.indices where !running[index].decoding && budget > 0 {
            let sequence = running[index]
            let end = min(sequence.promptCount, sequence.fed + budget)
            let isLast = end == sequence.promptCount
            step.prefill.append(Chunk(id: sequence.id, range: sequence.fed..<end, isLast: isLast))
            budget -= end - sequence.fed
            running[index].fed = end
            running[index].decoding = isLast
        }
        return step.decode.isEmpty && step.prefill.isEmpty ? nil : step
    }

    // MARK: - Admission

    private mutating func admit(now: C.Instant) -> [Action] {
        var actions: [Action] = []
        while !waiting.isEmpty {
            let request = waiting[0]
            // The slot sharing the longest prefix, when that continues its conversation (at least half
            // of what it caches); otherwise an empty slot, else the one idle longest — a shared BOS
            // alone must not cost another conversation its cache.
            var longest: (slot: Int, shared: Int)?
            var spare: (slot: Int, shared: Int, rank: UInt64)?
            for (index, slot) in slots.enumerated() {
                guard case .free(let cached, let freed) = slot else { continue }
                let shared = zip(cached, request.prompt).prefix { $0 == $1 }.count
                if shared > 0, shared * 2 >= cached.count, shared > (longest?.shared ?? 0) { longest = (index, shared) }
                // Empty slots first (rank 0), then by how long they have been idle.
                let rank = cached.isEmpty ? 0 : freed + 1
                if spare == nil || rank < spare!.rank { spare = (index, shared, rank) }
            }
            let best = longest ?? spare.map { ($0.slot, $0.shared) }
            guard let best else { break }
            waiting.removeFirst()
            // At least the prompt's last token is evaluated again, for its logits.
            let reuse = max(0, min(best.shared, request.prompt.count - 1))
            slots[best.slot] = .busy(request.id)
            running.append(
                Running(
                    id: request.id, slot: best.slot, promptCount: request.prompt.count, fed: reuse, decoding: false,
                    deadline: now.advanced(by: configuration.requestLimit)))
            actions.append(.admit(request.id, slot: best.slot, reuse: reuse))
        }
        return actions
    }
}
