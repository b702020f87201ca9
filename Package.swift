// swift-tools-version: 6.2
// Brise: an on-device LLM runtime for Mistral's small models. Module map: ../shared/DESIGN.md and README.md.
import Foundation
import PackageDescription

/// The modules inference runs through (reading the file, kernels' Swift side, the forward pass,
/// tokenizers, sampling, the engine's steps) are optimized in debug builds too, as CKernels is:
/// unoptimized, they were most of the test run's time (vocabulary-wide loops per token, per-position
/// bookkeeping), and nobody steps through them in a debugger. The sockets, configuration and commands
/// above them stay debug builds. Not in the sanitizer builds (scripts/build-asan sets BRISE_FUZZ,
/// scripts/test-sanitized-daemon BRISE_SANITIZER_BUILD): instrumented, -O took 90 s (AddressSanitizer)
/// and 120 s (ThreadSanitizer) more to compile than it saved in their runs.
let sanitizerBuild = ["BRISE_FUZZ", "BRISE_SANITIZER_BUILD"].contains { ProcessInfo.processInfo.environment[$0] == "1" }
let optimizedOutsideSanitizerBuilds: [SwiftSetting] = sanitizerBuild ? [] : [.unsafeFlags(["-O"])]
/// StructuredOutput and Vision: optimized in sanitizer builds too (see at their targets).
let optimizedInEveryConfiguration: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "brise",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "brise", targets: ["brise"]),
        .executable(name: "brised", targets: ["brised"]),
        .library(name: "BriseClient", targets: ["BriseClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // MARK: - System libraries (Debian -dev packages, found through pkg-config)
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .systemLibrary(
            name: "CEditLine",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        // MARK: - Kernels (C: intrinsics per ISA, chosen at run time; see Sources/CKernels/include/CKernels.h)
        .target(
            name: "CKernels",
            cSettings: [
                // Optimized in every configuration: debug builds of unoptimized intrinsics would make
                // the tests crawl, and nobody steps through these in a debugger. No -m flags: each SIMD
                // function carries its own target attribute, so one binary runs on every CPU.
                .unsafeFlags(["-O2", "-fno-strict-aliasing"])
            ],
            linkerSettings: [.linkedLibrary("m"), .linkedLibrary("pthread")]
        ),
        // libcurl for `brise pull`, loaded with dlopen on first use (its header from Debian's
        // libcurl4-openssl-dev): linked, it loaded ~25 libraries into every process at start.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]),
        // PNG (libpng) and JPEG (libjpeg-turbo) decoding into a caller-owned buffer; the libraries'
        // longjmp error handling stays inside its C file. Debian: libpng-dev, libjpeg62-turbo-dev.
        .target(
            name: "CImageCodecs",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]
        ),

        // MARK: - Libraries
        .target(
            name: "GGUF",
            dependencies: [.product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: optimizedOutsideSanitizerBuilds
        ),
        .target(name: "Kernels", dependencies: ["CKernels", "COpenBLAS"], swiftSettings: optimizedOutsideSanitizerBuilds),
        // The line editor under `brise chat` (libedit, with a reader that makes Ctrl-C abandon a line).
        .target(name: "CLineEditor", dependencies: ["CEditLine"]),
        .target(name: "Sampling", swiftSettings: optimizedOutsideSanitizerBuilds),
        // Grammars over bytes (GBNF, JSON Schema, regular expressions), their matcher and token masks.
        // Optimized in every configuration, as CKernels: token masks walk vocabularies of 150k tokens,
        // and unoptimized they would make the tests that check them against brute force crawl.
        .target(name: "StructuredOutput", swiftSettings: optimizedInEveryConfiguration),
        .target(name: "Tokenization", dependencies: ["GGUF"], swiftSettings: optimizedOutsideSanitizerBuilds),
        .target(name: "Model", dependencies: ["GGUF", "Kernels"], swiftSettings: optimizedOutsideSanitizerBuilds),
        // Images for the vision projector: decoding (CImageCodecs) and Pixtral's preprocessing.
        // Optimized in every configuration, as StructuredOutput: resampling a 25-megapixel image
        // unoptimized would make the tests crawl.
        .target(name: "Vision", dependencies: ["CImageCodecs"], swiftSettings: optimizedInEveryConfiguration),
        .target(
            name: "Engine",
            dependencies: [
                "GGUF", "Kernels", "Model", "Sampling", "StructuredOutput", "Tokenization", "Vision",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: optimizedOutsideSanitizerBuilds
        ),
        .target(name: "WireProtocol", exclude: ["io.brise.Inference.varlink"]),
        .target(name: "BriseClient", dependencies: ["WireProtocol"]),
        .target(
            name: "Server",
            dependencies: [
                // The serving core is Engine; Server keeps sockets, framing, peer credentials,
                // configuration and systemd glue (no Model, Kernels or Sampling).
                "CSystemd",
                "Engine",
                "ModelStore",
                "Tokenization",
                "WireProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ModelStore",
            dependencies: ["CCurl", "GGUF", .product(name: "SystemPackage", package: "swift-system")],
            // Its SHA-256 hashes whole model files.
            swiftSettings: optimizedOutsideSanitizerBuilds
        ),
        .target(
            name: "BriseCommands",
            dependencies: [
                "BriseClient",
                "CLineEditor",
                "Engine",
                "GGUF",
                "Kernels",
                "Model",
                "ModelStore",
                "Sampling",
                "StructuredOutput",
                "Tokenization",
                "WireProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Executables
        .executableTarget(
            name: "brise",
            dependencies: ["BriseCommands", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "brised", dependencies: ["Server"]),
        // examples/swift: a short program using BriseClient (run by DaemonTests/ExampleTests).
        .executableTarget(name: "brise-example", dependencies: ["BriseClient", "WireProtocol"], path: "examples/swift"),

        // MARK: - Tests
        .target(
            name: "TestSupport",
            dependencies: ["GGUF", "ModelStore"],
            path: "Tests/TestSupport",
            // It writes and parses the fixture models the suites build (megabytes of tensors).
            swiftSettings: optimizedOutsideSanitizerBuilds
        ),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"]),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling", "TestSupport"]),
        .testTarget(name: "StructuredOutputTests", dependencies: ["StructuredOutput", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "GGUF", "StructuredOutput", "Tokenization", "TestSupport"]),
        .testTarget(name: "WireProtocolTests", dependencies: ["WireProtocol", "TestSupport"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "WireProtocol", "TestSupport"]),
        // End to end: starts the real brised binary on real sockets and talks to it with independent clients.
        .testTarget(name: "DaemonTests", dependencies: ["BriseClient", "GGUF", "WireProtocol", "TestSupport", "brised", "brise", "brise-example"],
            exclude: ["clients"]),
        .testTarget(name: "ModelStoreTests", dependencies: ["ModelStore", "GGUF", "TestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "GGUF", "Kernels", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CKernels", "TestSupport"]),
        .testTarget(name: "VisionTests", dependencies: ["Vision", "Model", "Kernels", "GGUF", "ModelStore", "TestSupport"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "GGUF", "TestSupport"]),
        .testTarget(
            name: "BriseCommandsTests",
            dependencies: ["BriseCommands", "GGUF", "TestSupport", "brise"]
        ),

        // MARK: - Fuzzing (Tests/Fuzz): the targets' logic, replayed over the committed corpus by swift test
        .target(
            name: "FuzzHarness",
            dependencies: [
                "Engine", "GGUF", "Model", "Sampling", "Server", "StructuredOutput", "Tokenization", "Vision", "WireProtocol",
                "TestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/Fuzz/Harness"
        ),
        .testTarget(name: "FuzzCorpusTests", dependencies: ["FuzzHarness", "TestSupport"], path: "Tests/Fuzz/CorpusTests"),
    ]
)

// The libFuzzer executable: only when scripts/build-asan builds with BRISE_FUZZ=1 (every module with
// AddressSanitizer and libFuzzer's coverage) and names libFuzzer's archive without main in
// BRISE_FUZZ_RUNTIME; brise-fuzz has its own main and calls libFuzzer's driver, so brised can be linked
// from the same build. An ordinary build has no use for it.
if ProcessInfo.processInfo.environment["BRISE_FUZZ"] == "1" {
    let runtime = ProcessInfo.processInfo.environment["BRISE_FUZZ_RUNTIME"] ?? "libclang_rt.fuzzer_no_main.a"
    package.targets.append(.target(name: "CFuzzDriver", path: "Tests/Fuzz/Driver"))
    package.targets.append(
        .executableTarget(
            name: "brise-fuzz", dependencies: ["CFuzzDriver", "FuzzHarness"], path: "Tests/Fuzz/Target",
            linkerSettings: [.unsafeFlags(["-Xlinker", runtime, "-lstdc++"])]))
}

// Swift 6 upcoming features used across the package (swift-log, Hummingbird and service-lifecycle do the same).
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
