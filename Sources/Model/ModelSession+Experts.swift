import GGUF
import Kernels

extension ModelSession {
    /// A mixture-of-experts FFN of `count` rows of `h` into `projected` (llama.cpp's `build_moe_ffn`
    /// for llama/mistral3: softmax gating, the chosen weights renormalized, SwiGLU experts).
    ///
    /// Each token is routed (`ExpertRoute`); then every expert that any token chose runs once over the
    /// rows that chose it, gathered into consecutive rows (prefill and batched decode read each chosen
    /// expert's weights once per step, not once per token), through the same gate/up/down code as a
    /// dense FFN. A row's products are the bits of a one-row product, so a token's output does not
    /// depend on which other tokens share its step. Each output is scaled by its weight (`ggml_mul`)
    /// and a token's outputs are summed in its route's order (`ggml_add`, one view after another).
    func mixture(_ experts: MixtureOfExperts, rows count: Int) {
        let b = buffers
        let hidden = model.configuration.embeddingLength
        let n = experts.count
        let used = experts.used
        multiplier.multiply(
            experts.router, batch: UnsafeBufferPointer(start: b.h, count: count * hidden), count: count,
            into: UnsafeMutableBufferPointer(start: b.router, count: count * n))
        let routes = (0..<count).map { t in ExpertRoute(logits: b.router + t * n, count: n, used: used, ops: ops) }
        var assigned = Array(repeating: [(token: Int, choice: Int)](), count: n)
        for (t, route) in routes.enumerated() {
            for (j, e) in route.experts.enumerated() { assigned[e].append((t, j)) }
        }
        for e in 0..<n where !assigned[e].isEmpty {
            let rows = assigned[e]
            // One token reads h in place (it stays whole for the next expert); a batch's rows are
            // gathered, and the expert's down projection is written over them.
            if count > 1 {
                for (r, row) in rows.enumerated() {
                    (b.gathered + r * hidden).update(from: b.h + row.token * hidden, count: hidden)
                }
            }
            feedForward(
                gate: experts.gate[e], up: experts.up[e], down: experts.down[e], input: count > 1 ? b.gathered : b.h,
                rows: rows.count, into: b.gathered)
            for (r, row) in rows.enumerated() {
                ops.scale(
                    b.gathered + r * hidden, by: routes[row.token].weights[row.choice],
                    into: b.expertOutputs + (row.token * used + row.choice) * hidden, count: hidden)
            }
        }
        // h has been read by every expert: the sums go over it (`projected`).
        for t in 0..<count {
            let outputs = b.expertOutputs + t * used * hidden
            let sum = b.projected + t * hidden
            sum.update(from: outputs, count: hidden)
            for j in 1..<used {
                ops.add(
                    UnsafeBufferPointer(start: sum, count: hidden), UnsafeBufferPointer(start: outputs + j * hidden, count: hidden),
                    into: UnsafeMutableBufferPointer(start: sum, count: hidden))
            }
        }
    }
}
