internal import CKernels

/// An instruction-set path of the kernels, chosen at run time from what the CPU supports.
public enum KernelPath: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Portable C: the reference every other path is tested against.
    case scalar
    /// x86-64 AVX2 + FMA + F16C.
    case avx2
    /// AVX2 with AVX-VNNI (256-bit `vpdpbusd`).
    case avxvnni
    /// AVX-512 F/BW/VL/DQ.
    case avx512
    /// AVX-512 with VNNI (512-bit `vpdpbusd`).
    case avx512vnni
    /// ARM64 Advanced SIMD.
    case neon
    /// ARM64 NEON with the dot-product extension (`sdot`).
    case dotprod

    /// The environment variable that forces a path (tests, benchmarks).
    public static let environmentVariable = "BRISE_KERNEL_PATH"

    var cPath: ck_path {
        switch self {
        case .scalar: CK_PATH_SCALAR
        case .avx2: CK_PATH_AVX2
        case .avxvnni: CK_PATH_AVXVNNI
        case .avx512: CK_PATH_AVX512
        case .avx512vnni: CK_PATH_AVX512VNNI
        case .neon: CK_PATH_NEON
        case .dotprod: CK_PATH_DOTPROD
        }
    }

    public var description: String { rawValue }

    /// Whether this CPU and build can run the path.
    public var isSupported: Bool { ck_path_supported(cPath) }

    /// The paths this CPU can run, slowest (scalar) first.
    public static var supported: [KernelPath] { allCases.filter(\.isSupported) }

    /// The fastest path this CPU supports.
    public static var best: KernelPath {
        let best = ck_detect_best_path()
        return allCases.first { $0.cPath == best } ?? .scalar
    }

    /// The path `BRISE_KERNEL_PATH` names in `environment`, else the best one.
    ///
    /// - Parameter environment: The process environment (passed in; nothing reads globals).
    /// - Returns: The path.
    /// - Throws: `KernelError` `.unknownPath` for a name Brise does not know, `.unsupportedPath` for
    ///   a path this CPU cannot run.
    public static func select(environment: [String: String]) throws -> KernelPath {
        guard let name = environment[environmentVariable], !name.isEmpty else { return best }
        guard let path = KernelPath(rawValue: name) else {
            throw KernelError(
                .unknownPath,
                "\(environmentVariable)=\(name) is not a kernel path (one of: "
                    + allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        guard path.isSupported else {
            throw KernelError(
                .unsupportedPath,
                "\(environmentVariable)=\(name): this CPU cannot run it (supported: "
                    + supported.map(\.rawValue).joined(separator: ", ") + ")")
        }
        return path
    }
}
