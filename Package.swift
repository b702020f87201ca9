// swift-tools-version: 6.2
// Brise: an on-device LLM runtime for Mistral's small models. Module map: ../shared/DESIGN.md and README.md.
import PackageDescription

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
    ],
    targets: [
        // MARK: - System libraries (Debian -dev packages, found through pkg-config)
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        // MARK: - Libraries
        .target(
            name: "GGUF",
            dependencies: [.product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(name: "Tokenization", dependencies: ["GGUF"]),
        .target(name: "BriseClient"),
        .target(
            name: "BriseCommands",
            dependencies: [
                "GGUF",
                "Tokenization",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Executables
        .executableTarget(
            name: "brise",
            dependencies: ["BriseCommands", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "brised", dependencies: ["CSystemd", "COpenBLAS"]),

        // MARK: - Tests
        .target(
            name: "TestSupport",
            dependencies: ["GGUF"],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization", "GGUF", "TestSupport"]),
        .testTarget(
            name: "BriseCommandsTests",
            dependencies: ["BriseCommands", "GGUF", "TestSupport", "brise"]
        ),
    ]
)

// Swift 6 upcoming features used across the package (swift-log, Hummingbird and service-lifecycle do the same).
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
