// The bridge from FloatOps to the C float ops (Sources/CKernels/include/CKernelsOps.h): one path's
// table of typed C function pointers, read once from `ck_ops_select`. The signatures are the
// compiler-checked imports of the C declarations.
internal import CKernels

/// The C signatures of the ops (CKernelsOps.h), `size_t` as `Int`.
enum FloatOpsC {
    typealias RMSNorm = @convention(c) (Int, UnsafePointer<Float>, UnsafePointer<Float>?, Float, UnsafeMutablePointer<Float>) -> Void
    typealias RoPE = @convention(c) (UnsafePointer<Float>, Int, Int, Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    typealias Max = @convention(c) (Int, UnsafePointer<Float>) -> Float
    typealias ExpSub = @convention(c) (Int, UnsafePointer<Float>, Float, UnsafeMutablePointer<Float>) -> Double
    typealias Softmax = @convention(c) (Int, UnsafePointer<Float>, Float, UnsafePointer<Float>?, UnsafeMutablePointer<Float>) -> Void
    typealias Unary = @convention(c) (Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    typealias Binary = @convention(c) (Int, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    typealias Scale = @convention(c) (Int, UnsafePointer<Float>, Float, UnsafeMutablePointer<Float>) -> Void
    typealias DotF16 = @convention(c) (Int, UnsafeRawPointer, UnsafePointer<Float>) -> Float
    typealias AxpyF16 = @convention(c) (Int, Float, UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void
    typealias RoPECache = @convention(c) (
        Int32, Int32, Float, Float, Float, Float, Float, Float, Int32, UnsafePointer<Float>?, UnsafeMutablePointer<Float>
    ) -> Void
    typealias CorrectionDimensions = @convention(c) (Int32, Int32, Float, Float, Float, UnsafeMutablePointer<Float>) -> Void
    typealias GeluF16 = @convention(c) (UInt16) -> UInt16
    typealias Attend = @convention(c) (UnsafePointer<ck_ops>, UnsafePointer<ck_attend_args>) -> Void
    typealias AttendHeads = @convention(c) (UnsafePointer<ck_ops>, UnsafePointer<ck_attend_args>, Int) -> Void
}

/// One path's op table, resolved once into typed C function pointers.
struct FloatOpsFunctions: @unchecked Sendable {
    // @unchecked Sendable: plain C function pointers into static code; the C table behind them is
    // built once and never written again.
    let rmsNorm: FloatOpsC.RMSNorm
    let ropeNorm: FloatOpsC.RoPE
    let ropeNeox: FloatOpsC.RoPE
    let max: FloatOpsC.Max
    let expSub: FloatOpsC.ExpSub
    let softmax: FloatOpsC.Softmax
    let silu: FloatOpsC.Unary
    let swiglu: FloatOpsC.Binary
    let gelu: FloatOpsC.Unary
    let geglu: FloatOpsC.Binary
    let add: FloatOpsC.Binary
    let mul: FloatOpsC.Binary
    let scale: FloatOpsC.Scale
    let dotF16: FloatOpsC.DotF16
    let axpyF16: FloatOpsC.AxpyF16
    let ropeCache: FloatOpsC.RoPECache
    let yarnCorrectionDimensions: FloatOpsC.CorrectionDimensions
    let geluF16: FloatOpsC.GeluF16
    let attendF16: FloatOpsC.Attend
    let attendF16Heads: FloatOpsC.AttendHeads
    let attendQ8_0: FloatOpsC.Attend
    /// The C table itself (attend_f16 takes it, to reach the path's other ops).
    let table: UnsafePointer<ck_ops>

    /// Resolves the table of `path` (an index of `ck_path`); nil when the CPU cannot run it.
    init?(path: Int32) {
        guard path >= 0, path < Int32(CK_PATH_COUNT.rawValue),
            let pointer = ck_ops_select(ck_path(rawValue: UInt32(path)))
        else { return nil }
        let table = pointer.pointee
        self.table = pointer
        attendF16 = table.attend_f16
        attendF16Heads = table.attend_f16_heads
        attendQ8_0 = table.attend_q8_0
        rmsNorm = table.rms_norm
        ropeNorm = table.rope_norm
        ropeNeox = table.rope_neox
        max = table.max
        expSub = table.exp_sub
        softmax = table.softmax
        silu = table.silu
        swiglu = table.swiglu
        gelu = table.gelu
        geglu = table.geglu
        add = table.add
        mul = table.mul
        scale = table.scale
        dotF16 = table.dot_f16
        axpyF16 = table.axpy_f16
        ropeCache = { dims, context, base, scale, ext, attention, fast, slow, position, factors, cache in
            var configuration = ck_rope_config(
                n_dims: dims, n_ctx_orig: context, freq_base: base, freq_scale: scale, ext_factor: ext,
                attn_factor: attention, beta_fast: fast, beta_slow: slow)
            ck_rope_cache(&configuration, position, factors, cache)
        }
        yarnCorrectionDimensions = { dims, context, base, fast, slow, out in
            ck_rope_yarn_corr_dims(dims, context, base, fast, slow, out)
        }
        geluF16 = { ck_gelu_f16($0) }
    }
}
