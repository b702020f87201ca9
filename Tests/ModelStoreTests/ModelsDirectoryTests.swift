import ModelStore
import Testing

/// Where the models directory is, for every environment a user or systemd can give.
@Suite struct ModelsDirectoryTests {
    static let full = [
        "BRISE_MODELS_DIR": "/srv/models",
        "STATE_DIRECTORY": "/var/lib/brise",
        "XDG_DATA_HOME": "/home/ada/.data",
        "HOME": "/home/ada",
    ]

    @Test func theFlagWinsOverEverything() throws {
        let directory = try ModelsDirectory.resolve(flag: "/tmp/m/", environment: Self.full)
        #expect(directory == ModelsDirectory(path: "/tmp/m", source: .flag))
    }

    @Test func theVariableWinsOverSystemdAndXDG() throws {
        let directory = try ModelsDirectory.resolve(flag: nil, environment: Self.full)
        #expect(directory == ModelsDirectory(path: "/srv/models", source: .briseModelsDir))
    }

    @Test func theServiceUsesItsStateDirectory() throws {
        var environment = Self.full
        environment["BRISE_MODELS_DIR"] = nil
        #expect(
            try ModelsDirectory.resolve(flag: nil, environment: environment)
                == ModelsDirectory(path: "/var/lib/brise/models", source: .stateDirectory))
        // StateDirectory=brise other: systemd passes a colon-separated list; the first is ours.
        environment["STATE_DIRECTORY"] = "/var/lib/brise/:/var/lib/other"
        #expect(try ModelsDirectory.resolve(flag: nil, environment: environment).path == "/var/lib/brise/models")
    }

    @Test func aUserGetsTheXDGDataDirectory() throws {
        var environment = Self.full
        environment["BRISE_MODELS_DIR"] = nil
        environment["STATE_DIRECTORY"] = nil
        #expect(
            try ModelsDirectory.resolve(flag: nil, environment: environment)
                == ModelsDirectory(path: "/home/ada/.data/brise/models", source: .xdgDataHome))
        environment["XDG_DATA_HOME"] = nil
        #expect(
            try ModelsDirectory.resolve(flag: nil, environment: environment)
                == ModelsDirectory(path: "/home/ada/.local/share/brise/models", source: .home))
    }

    @Test func emptyAndRelativeValuesAreIgnored() throws {
        let environment = [
            "BRISE_MODELS_DIR": "", "STATE_DIRECTORY": "", "XDG_DATA_HOME": "relative/data", "HOME": "/root",
        ]
        #expect(
            try ModelsDirectory.resolve(flag: "", environment: environment)
                == ModelsDirectory(path: "/root/.local/share/brise/models", source: .home))
        #expect(try ModelsDirectory.resolve(flag: nil, environment: ["HOME": "/"]).path == "/.local/share/brise/models")
    }

    @Test func nothingSetIsAClearError() {
        let error = #expect(throws: ModelStoreError.self) {
            try ModelsDirectory.resolve(flag: nil, environment: [:])
        }
        #expect(error?.code == .noModelsDirectory)
        #expect(error?.message.contains("--models-dir") == true)
    }
}

extension ModelsDirectoryTests {
    @Test func relativeFlagsAreMadeAbsolute() throws {
        let relative = try ModelsDirectory.resolve(flag: "./models/", environment: [:])
        #expect(relative.absolute(currentDirectory: "/work/").path == "/work/models")
        #expect(ModelsDirectory(path: ".", source: .flag).absolute(currentDirectory: "/w").path == "/w")
        #expect(ModelsDirectory(path: "/abs", source: .flag).absolute(currentDirectory: "/w").path == "/abs")
    }
}
