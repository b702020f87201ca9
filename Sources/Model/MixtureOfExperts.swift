import Kernels

/// A layer's sparse mixture-of-experts FFN (Mixtral: 8 experts, each token through 2): a router, and
/// per expert a SwiGLU FFN's gate, up and down projections, bound in place from the stacked 3-D
/// tensors `ffn_{gate,up,down}_exps` (MODEL-SPEC §4; llama.cpp's `build_moe_ffn` with softmax gating
/// and the chosen weights renormalized).
struct MixtureOfExperts {
    /// `expertCount × hidden`: the router's logits for a token are `router · h` (`ffn_gate_inp`, which
    /// llama.cpp's converter and quantizer keep in F32).
    let router: WeightMatrix
    /// Per expert: `ffn × hidden`.
    let gate: [WeightMatrix]
    /// Per expert: `ffn × hidden`.
    let up: [WeightMatrix]
    /// Per expert: `hidden × ffn`.
    let down: [WeightMatrix]
    /// Experts each token goes through.
    let used: Int

    /// The number of experts.
    var count: Int { gate.count }

    /// The expert matrices, expert by expert (gate, up, down).
    var matrices: [WeightMatrix] { (0..<count).flatMap { [gate[$0], up[$0], down[$0]] } }
}

/// The routing of one token: which experts, in the order their outputs are summed, and each one's
/// weight.
struct ExpertRoute: Equatable {
    var experts: [Int]
    var weights: [Float]

    /// Routes a token from its router logits as llama.cpp's CPU graph does: `probs = softmax(logits)`
    /// (`ggml_soft_max`, the vector exp of `FloatOps`); the `used` largest (`ggml_top_k`: a partial
    /// sort, largest first, after which the CPU kernel swaps the first two; on a tie the lower index
    /// comes first, where llama.cpp's `std::partial_sort` leaves it unspecified); their
    /// probabilities, divided by their sum (`ggml_sum_rows`: in double, rounded to float, clamped to at
    /// least 2⁻¹⁴ as `ggml_clamp` does). The experts' outputs are then summed in this order.
    ///
    /// - Parameters:
    ///   - logits: The router's `count` logits; overwritten with the probabilities.
    ///   - count: The number of experts (at least `used`).
    ///   - used: Experts to choose (at least 1).
    ///   - ops: The float ops (softmax).
    init(logits: UnsafeMutablePointer<Float>, count: Int, used: Int, ops: FloatOps) {
        precondition(used >= 1 && used <= count, "route \(used) of \(count) experts")
        ops.softmax(logits, count: count)
        var order = Array(0..<count)
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        var chosen = Array(order.prefix(used))
        if used > 1 { chosen.swapAt(0, 1) }
        var sum = 0.0
        for e in chosen { sum += Double(logits[e]) }
        let divisor = Swift.max(Float(sum), Self.smallestSum)
        experts = chosen
        weights = chosen.map { logits[$0] / divisor }
    }

    /// The clamp on the sum of the chosen probabilities (F16's smallest normal, as llama.cpp uses).
    static let smallestSum: Float = 6.103515625e-5
}
