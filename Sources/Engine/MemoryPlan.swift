/// What a model needs in memory, and the context length that fits a budget.
///
/// One number, the budget, must hold: the mapped weights (file-backed, but charged to the cgroup and
/// needing RAM to run without thrashing), the KV cache (bytes per token × context), the forward
/// pass's scratch buffers, and the process's own overhead. The planner takes the context asked for,
/// or picks the largest that fits (a multiple of 256, at most the model's training context and the
/// default), and refuses with a message that says what would fit.
public struct MemoryPlan: Sendable, Equatable, CustomStringConvertible {
    /// The budget in bytes.
    public var budget: Int
    /// Where it came from (`--memory-budget`, a cgroup file, physical memory).
    public var budgetSource: String
    /// Bytes of weights mapped from the file.
    public var weightBytes: Int
    /// KV-cache bytes per token of context.
    public var kvBytesPerToken: Int
    /// The planned context length (per slot).
    public var contextLength: Int
    /// Sequences served side by side, each with a KV cache of `contextLength` positions.
    public var slots: Int = 1
    /// Scratch bytes of the forward pass.
    public var scratchBytes: Int
    /// The process's own overhead.
    public var overheadBytes: Int
    /// Of `weightBytes`, the experts of a mixture-of-experts model (0 for a dense one): a step reads
    /// only the experts its tokens chose, so they can live in the page cache and be evicted.
    public var expertBytes: Int = 0
    /// The expert bytes one step of one layer may touch (the experts each token goes through): what
    /// must stay in memory at least while the step runs.
    public var expertWorkingSetBytes: Int = 0
    /// Whether the budget holds less than every expert: the plan counts only `expertWorkingSetBytes`
    /// of them, the rest are paged in from the file as the router chooses them (slower, but it runs).
    public var pagedExperts = false

    /// The weights the plan counts: all of them, or, with paged experts, all but the experts beyond
    /// one step's working set.
    public var plannedWeightBytes: Int {
        pagedExperts ? weightBytes - expertBytes + expertWorkingSetBytes : weightBytes
    }

    /// KV-cache bytes at the planned context, all slots (saturating: a plan past `Int.max` is simply too big).
    public var kvCacheBytes: Int { Self.saturating(Self.saturating(kvBytesPerToken, times: contextLength), times: slots) }
    /// Everything together (saturating).
    public var totalBytes: Int {
        [kvCacheBytes, scratchBytes, overheadBytes].reduce(plannedWeightBytes) { Self.saturating($0, plus: $1) }
    }

    /// The memory for every weight to stay resident (the speed the model is made for): the plan's
    /// total with every expert counted.
    public var fullSpeedBytes: Int {
        [kvCacheBytes, scratchBytes, overheadBytes].reduce(weightBytes) { Self.saturating($0, plus: $1) }
    }

    /// The least memory the model runs in at this context and slot count: the weights without the
    /// experts beyond one step's working set (equal to `fullSpeedBytes` for a dense model).
    public var minimumBytes: Int {
        var paged = self
        paged.pagedExperts = expertBytes > 0
        return paged.totalBytes
    }

    static func saturating(_ a: Int, times b: Int) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? Int.max : product
    }

    static func saturating(_ a: Int, plus b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }

    /// The process's own overhead, measured: the Swift runtime, code and small allocations of `brise`
    /// run about 20-30 MiB resident.
    public static let defaultOverhead = 32 << 20
    /// Contexts are planned in steps of this many tokens (llama.cpp pads its KV cache the same way).
    public static let contextStep = 256
    /// The context used when none is asked for and the budget allows it.
    public static let defaultContext = 4096
    /// The most slots planned when none are asked for.
    public static let defaultMaximumSlots = 4
    /// The most slots that may be asked for.
    public static let maximumSlots = 64

    /// What the planner needs to know.
    public struct Request: Sendable {
        public var weightBytes: Int
        public var kvBytesPerToken: Int
        public var trainingContext: Int
        public var requestedContext: Int?
        public var scratchBytes: Int
        public var overheadBytes: Int
        /// KV bytes per token with a Q8_0 cache, when the plan is for F16 (so a refusal can say
        /// whether `--kv-type q8_0` would fit).
        public var q8KVBytesPerToken: Int?
        /// Slots asked for (nil: as many as fit the context, at most `defaultMaximumSlots`).
        public var requestedSlots: Int?
        /// Scratch bytes each slot beyond the first adds (its logits row).
        public var scratchBytesPerSlot: Int = 0
        /// Of `weightBytes`, the experts (0: a dense model); see `MemoryPlan.expertBytes`.
        public var expertBytes: Int = 0
        /// See `MemoryPlan.expertWorkingSetBytes`.
        public var expertWorkingSetBytes: Int = 0

        public init(
            weightBytes: Int, kvBytesPerToken: Int, trainingContext: Int, requestedContext: Int?, scratchBytes: Int,
            overheadBytes: Int = MemoryPlan.defaultOverhead, q8KVBytesPerToken: Int? = nil, requestedSlots: Int? = nil,
            scratchBytesPerSlot: Int = 0, expertBytes: Int = 0, expertWorkingSetBytes: Int = 0
        ) {
            self.expertBytes = expertBytes
            self.expertWorkingSetBytes = expertWorkingSetBytes
            self.requestedSlots = requestedSlots
            self.scratchBytesPerSlot = scratchBytesPerSlot
            self.q8KVBytesPerToken = q8KVBytesPerToken
            self.weightBytes = weightBytes
            self.kvBytesPerToken = kvBytesPerToken
            self.trainingContext = trainingContext
            self.requestedContext = requestedContext
            self.scratchBytes = scratchBytes
            self.overheadBytes = overheadBytes
        }
    }

    /// Plans `request` within `budget`.
    ///
    /// - Parameters:
    ///   - request: The model's needs.
    ///   - budget: The budget in bytes.
    ///   - budgetSource: Where the budget came from.
    /// - Returns: The plan.
    /// - Throws: `MemoryPlanError` with the numbers and what would fit.
    public static func make(_ request: Request, budget: Int, budgetSource: String) throws -> MemoryPlan {
        do {
            return try planSlots(request, budget: budget, budgetSource: budgetSource)
        } catch let error as MemoryPlanError {
            // A mixture of experts that does not fit with every expert resident still runs with its
            // experts paged from the file: plan it with one step's working set of them.
            guard request.expertBytes > 0 else { throw error }
            var paged = request
            paged.weightBytes = request.weightBytes - request.expertBytes + request.expertWorkingSetBytes
            // Past this, the refusal is the paged plan's: the least the model runs in.
            var plan = try planSlots(paged, budget: budget, budgetSource: budgetSource)
            plan.weightBytes = request.weightBytes
            plan.expertBytes = request.expertBytes
            plan.expertWorkingSetBytes = request.expertWorkingSetBytes
            plan.pagedExperts = true
            return plan
        }
    }

    /// `make` with the weights counted as given.
    private static func planSlots(_ request: Request, budget: Int, budgetSource: String) throws -> MemoryPlan {
        var plan = try planAnySlots(request, budget: budget, budgetSource: budgetSource)
        plan.expertBytes = request.expertBytes
        plan.expertWorkingSetBytes = request.expertWorkingSetBytes
        return plan
    }

    private static func planAnySlots(_ request: Request, budget: Int, budgetSource: String) throws -> MemoryPlan {
        if let slots = request.requestedSlots {
            guard slots >= 1, slots <= maximumSlots else {
                throw MemoryPlanError(
                    needed: 0, budget: budget, budgetSource: budgetSource, advice: "use --parallel between 1 and \(maximumSlots), not \(slots)")
            }
            return try make(request, slots: slots, budget: budget, budgetSource: budgetSource)
        }
        // As many slots as the budget holds at the context one slot gets, at most defaultMaximumSlots.
        let single = try make(request, slots: 1, budget: budget, budgetSource: budgetSource)
        var best = single
        for slots in 2...defaultMaximumSlots {
            var wider = request
            wider.requestedContext = single.contextLength
            guard let plan = try? make(wider, slots: slots, budget: budget, budgetSource: budgetSource) else { break }
            best = plan
        }
        return best
    }

    /// Plans `slots` slots: the context asked for, or the largest that fits each of them.
    private static func make(_ request: Request, slots: Int, budget: Int, budgetSource: String) throws -> MemoryPlan {
        let scratch = saturating(request.scratchBytes, plus: saturating(request.scratchBytesPerSlot, times: slots - 1))
        func plan(_ context: Int) -> MemoryPlan {
            MemoryPlan(
                budget: budget, budgetSource: budgetSource, weightBytes: request.weightBytes,
                kvBytesPerToken: request.kvBytesPerToken, contextLength: context, slots: slots, scratchBytes: scratch,
                overheadBytes: request.overheadBytes)
        }
        let fixed = saturating(saturating(request.weightBytes, plus: scratch), plus: request.overheadBytes)
        let room = budget - fixed
        let perToken = saturating(max(1, request.kvBytesPerToken), times: slots)
        let fitting = room <= 0 ? 0 : room / perToken / contextStep * contextStep
        /// The most slots that fit `context` positions each.
        func slotsFitting(_ context: Int) -> Int {
            let perSlot = saturating(max(1, request.kvBytesPerToken), times: context)
            let room = budget - request.weightBytes - request.scratchBytes - request.overheadBytes
            return room <= 0 ? 0 : min(maximumSlots, room / saturating(perSlot, plus: request.scratchBytesPerSlot))
        }
        func slotAdvice(_ context: Int) -> String {
            let fit = slotsFitting(context)
            return fit >= 1 ? "the largest --parallel that fits \(context) positions each is \(fit)" : ""
        }
        if let requested = request.requestedContext {
            let wanted = plan(requested)
            guard wanted.totalBytes > budget else { return wanted }
            let q8Fits =
                request.q8KVBytesPerToken.map {
                    saturating(fixed, plus: saturating(saturating($0, times: requested), times: slots)) <= budget
                } ?? false
            var advice = fitting >= contextStep ? "use --context \(fitting) or less" : Self.noContextAdvice(fixed: fixed, budget: budget)
            if q8Fits { advice += fitting >= contextStep ? ", or --kv-type q8_0" : "; or use --kv-type q8_0" }
            if slots > 1, !slotAdvice(requested).isEmpty { advice += "; \(slotAdvice(requested))" }
            throw MemoryPlanError(needed: wanted.totalBytes, budget: budget, budgetSource: budgetSource, advice: advice)
        }
        let preferred = min(request.trainingContext, defaultContext)
        let context = min(preferred, fitting)
        guard context >= min(contextStep, preferred) else {
            var advice = noContextAdvice(fixed: fixed, budget: budget)
            let smallest = min(contextStep, preferred)
            if slots > 1, !slotAdvice(smallest).isEmpty { advice = slotAdvice(smallest) }
            throw MemoryPlanError(
                needed: plan(smallest).totalBytes, budget: budget, budgetSource: budgetSource, advice: advice)
        }
        return plan(context)
    }

    private static func noContextAdvice(fixed: Int, budget: Int) -> String {
        "the weights, scratch and overhead alone need \(formatted(fixed)), leaving no room for a KV cache: "
            + "raise the budget or use a smaller model"
    }

    public var description: String {
        "\(Self.formatted(totalBytes)) of \(Self.formatted(budget)) (\(budgetSource)): weights \(Self.formatted(weightBytes))"
            + (expertBytes == 0
                ? ""
                : pagedExperts
                    ? " (experts \(Self.formatted(expertBytes)) paged from the file: \(Self.formatted(expertWorkingSetBytes)) counted)"
                    : " (experts \(Self.formatted(expertBytes)))")
            + ", "
            + "KV cache \(Self.formatted(kvCacheBytes)) (\(slots > 1 ? "\(slots) slots × " : "")\(contextLength) tokens × \(kvBytesPerToken) B), "
            + "scratch \(Self.formatted(scratchBytes)), overhead \(Self.formatted(overheadBytes))"
    }

    /// Bytes as people read them, one rule everywhere (logs, `brise status`, `brise budget`): GiB with
    /// two decimals from 1 GiB up, MiB with one below.
    public static func formatted(_ bytes: Int) -> String {
        let gib = Double(bytes) / Double(1 << 30)
        if gib >= 1 { return "\((gib * 100).rounded() / 100) GiB" }
        return "\((Double(bytes) / Double(1 << 20) * 10).rounded() / 10) MiB"
    }
}

/// A model that does not fit the memory budget, with the numbers and what would.
public struct MemoryPlanError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Bytes needed.
    public var needed: Int
    /// The budget.
    public var budget: Int
    /// Where the budget came from.
    public var budgetSource: String
    /// What would fit.
    public var advice: String

    public var description: String {
        "needs \(MemoryPlan.formatted(needed)), budget \(MemoryPlan.formatted(budget)) (\(budgetSource)): \(advice)"
    }
}

/// The memory budget: the configured one, or the cgroup's limit when lower; physical memory otherwise.
public enum MemoryBudget {
    /// Resolves the budget.
    ///
    /// - Parameters:
    ///   - configured: Bytes from the configuration or `--memory-budget`, if any.
    ///   - root: Where to read /proc and /sys (`""` for the real system).
    /// - Returns: The budget and where it came from.
    public static func resolve(configured: Int?, root: String = "") -> (bytes: Int, source: String) {
        let cgroup = CgroupMemoryLimit.read(root: root)
        switch (configured, cgroup) {
        case (let configured?, let cgroup?) where cgroup.bytes < configured: return (cgroup.bytes, cgroup.source)
        case (let configured?, _): return (configured, "--memory-budget")
        case (nil, let cgroup?): return (cgroup.bytes, cgroup.source)
        case (nil, nil):
            let physical = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
            return (physical, "physical memory")
        }
    }

    /// Parses a size like `2G`, `512M`, `1.5GiB` or `1000000` (bytes).
    ///
    /// - Parameter text: The size.
    /// - Returns: Bytes, or nil when malformed or not positive.
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [
            ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("G", 1_073_741_824), ("M", 1_048_576), ("K", 1024),
            ("B", 1),
        ]
        var number = trimmed
        var scale = 1.0
        for (suffix, value) in units where trimmed.hasSuffix(suffix) {
            number = String(trimmed.dropLast(suffix.count))
            scale = value
            break
        }
        guard let value = Double(number), value.isFinite, value > 0, value * scale < 9e18 else { return nil }
        return Int(value * scale)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
