import Foundation
import Server
import TestSupport
import Testing

/// The man pages in `man/` (scripts/generate-manuals) cover every flag and command the programs
/// have, so a new setting or subcommand without a regenerated page fails here.
@Suite struct ManualTests {
    static func page(_ name: String) throws -> String {
        try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("man/\(name)"), encoding: .utf8)
    }

    @Test func brisedPageNamesEverySetting() throws {
        let page = try Self.page("brised.1")
        #expect(page.contains(".Dt BRISED 1"))
        for setting in DaemonConfiguration.settings {
            #expect(page.contains(".It Fl \(setting.flag.dropFirst())"), "brised.1 lacks \(setting.flag): run scripts/generate-manuals")
        }
        for flag in ["-config", "-print-config", "-version"] {
            #expect(page.contains(".It Fl \(flag)"), "brised.1 lacks -\(flag)")
        }
    }

    /// brised describes itself in swift-argument-parser's format, one option per setting.
    @Test func brisedDumpsItsFlagsAsArgumentParserDoes() throws {
        let result = try ChildProcess.run(ChildProcess.builtProduct("brised"), ["--experimental-dump-help"])
        #expect(result.exitStatus == 0)
        let tool = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(tool["serializationVersion"] as? Int == 0)
        let command = try #require(tool["command"] as? [String: Any])
        #expect(command["commandName"] as? String == "brised")
        let names = ((command["arguments"] as? [[String: Any]]) ?? []).compactMap {
            (($0["preferredName"] as? [String: Any])?["name"] as? String)
        }
        for setting in DaemonConfiguration.settings {
            #expect(names.contains(String(setting.flag.dropFirst(2))), "\(setting.flag)")
        }
    }

    @Test func brisePageNamesEverySubcommandAndOption() throws {
        let page = try Self.page("brise.1")
        let result = try ChildProcess.run(ChildProcess.builtProduct("brise"), ["--experimental-dump-help"])
        let tool = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        var missing: [String] = []
        func visit(_ command: [String: Any]) {
            for sub in (command["subcommands"] as? [[String: Any]]) ?? [] {
                let name = sub["commandName"] as? String ?? "?"
                if name != "help", !page.contains(".It Em \(name)") { missing.append(name) }
                for argument in (sub["arguments"] as? [[String: Any]]) ?? [] where argument["shouldDisplay"] as? Bool != false {
                    guard let long = ((argument["names"] as? [[String: Any]]) ?? []).first(where: { $0["kind"] as? String == "long" })?["name"] as? String
                    else { continue }
                    if !page.contains("Fl -\(long)"), !page.contains(" , -\(long)") { missing.append("\(name) --\(long)") }
                }
                visit(sub)
            }
        }
        visit(try #require(tool["command"] as? [String: Any]))
        #expect(missing.isEmpty, "brise.1 lacks \(missing): run scripts/generate-manuals")
    }
    }
