import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// JSON text built by hand, so a test can send what no encoder writes: integers past 64 bits, 1e400,
/// lone surrogates, duplicate keys.
indirect enum JSONText {
    case raw(String)
    case string(String)
    case array([JSONText])
    case object([(String, JSONText)])

    var text: String {
        switch self {
        case .raw(let text): return text
        case .string(let value):
            var out = "\""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                default:
                    if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
                }
            }
            return out + "\""
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let pairs): return "{" + pairs.map { JSONText.string($0.0).text + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }
}

extension Daemon {
    /// Every method and every field of the interface the daemon serves, at and past the edges of its
    /// type — generated from the interface description, not listed by hand. After each call the daemon
    /// answers GetStatus, and its pid never changes.
    @Suite struct InterfaceEdges {
        /// A valid value of `type` (strings are "user": a valid role, and fine text).
        static func baseline(_ type: VarlinkIDL.FieldType, _ idl: VarlinkIDL) -> JSONText {
            switch type {
            case .int: return .raw("1")
            case .float: return .raw("0.5")
            case .string: return .string("user")
            case .bool: return .raw("true")
            case .object: return .object([("type", .string("object"))])
            case .array(let element): return .array([baseline(element, idl)])
            case .optional(let wrapped): return baseline(wrapped, idl)
            case .named(let name): return .object((idl.types[name] ?? []).map { ($0.name, baseline($0.type, idl)) })
            }
        }

        static let deepArray = JSONText.raw(String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000))
        static let deepObject = JSONText.raw(String(repeating: "{\"a\":", count: 600) + "1" + String(repeating: "}", count: 600))
        static let wrongTypes: [JSONText] = [.raw("null"), .raw("true"), .string("text"), .raw("7"), .raw("[]"), .raw("{}"), deepArray, deepObject]

        /// The values to try in a field of `type`: its edges, then every wrong type.
        static func edges(_ type: VarlinkIDL.FieldType, _ idl: VarlinkIDL) -> [JSONText] {
            var values: [JSONText]
            switch type {
            case .int, .float:
                values = [
                    "0", "-1", "1", "-0.0", "0.5", "-9223372036854775808", "9223372036854775807", "18446744073709551615",
                    "18446744073709551616", "1e308", "-1e308", "1e400", "1e-400", "4.9e-324", "16777216", "16777217", "2147483648",
                ].map(JSONText.raw)
            case .string:
                values = [
                    .string(""), .string(String(repeating: "word ", count: 40_000)), .raw(#""\ud800""#), .raw(#""\udc00\ud800""#),
                    .raw(#""\ud800\u0041""#), .string("\u{0}\u{1}\u{7f}"), .string("🤖 café [INST] <s> <|im_start|>"),
                ]
            case .bool: values = [.raw("false"), .raw("0")]
            case .object: values = [.object([]), .object([("a", .raw("1")), ("a", .raw("2"))]), .raw(#"{"a":"\ud800\u0041"}"#)]
            case .array(let element):
                values = [.array([]), .array(Array(repeating: baseline(element, idl), count: 2000))]
            case .optional(let wrapped): return edges(wrapped, idl)
            case .named: values = [.object([]), .object([("unknown_field", .raw("1"))])]
            }
            return values + wrongTypes
        }

        /// Every (path, value) pair for the parameters of a method: each field replaced by each edge
        /// value inside an otherwise valid call, recursing into named types and first array elements.
        static func cases(_ fields: [VarlinkIDL.Field], _ idl: VarlinkIDL) -> [(String, JSONText)] {
            var results: [(String, JSONText)] = []
            // An object of `fields` with valid values, but `value` in field `name`.
            func object(_ fields: [VarlinkIDL.Field], replacing name: String, with value: JSONText) -> JSONText {
                .object(fields.map { ($0.name, $0.name == name ? value : baseline($0.type, idl)) })
            }
            func variants(_ type: VarlinkIDL.FieldType, _ path: String) -> [(String, JSONText)] {
                var out = edges(type, idl).map { (path, $0) }
                var core = type
                if case .optional(let wrapped) = core { core = wrapped }
                switch core {
                case .named(let name):
                    let inner = idl.types[name] ?? []
                    for field in inner {
                        for (subpath, value) in variants(field.type, path + "." + field.name) {
                            out.append((subpath, object(inner, replacing: field.name, with: value)))
                        }
                    }
                case .array(let element):
                    for (subpath, value) in variants(element, path + "[0]") { out.append((subpath, .array([value]))) }
                default: break
                }
                return out
            }
            for field in fields {
                for (path, value) in variants(field.type, field.name) {
                    results.append((path, object(fields, replacing: field.name, with: value)))
                }
            }
            // Unknown and duplicate top-level fields.
            let base = fields.map { ($0.name, baseline($0.type, idl)) }
            results.append(("(unknown field)", .object(base + [("unknown_field", .raw("[1,2,3]"))])))
            results.append(("(duplicate fields)", .object(base + base)))
            return results
        }

        @Test func everyFieldAtTheEdgesKeepsTheDaemonUp() throws {
            let (daemon, socket) = try Daemon.start(["--default-max-tokens", "3", "--max-request-seconds", "20"])
            let pid = daemon.pid
            let status = try VarlinkTestClient(path: socket)
            // Both interfaces the daemon serves, as it describes them.
            var interfaces: [VarlinkIDL] = []
            for name in ["io.brise.Inference", "org.varlink.service"] {
                let reply = try status.collect("org.varlink.service.GetInterfaceDescription", ["interface": name])
                let description = try #require((reply.first?["parameters"] as? [String: Any])?["description"] as? String)
                interfaces.append(try VarlinkIDL(description))
            }
            #expect(interfaces[0].methods.count >= 6 && interfaces[1].methods.count == 2)

            var calls = 0
            var answers: [String: Int] = [:]
            let knownErrors: Set<String> = [
                "io.brise.Inference.InvalidParameter", "io.brise.Inference.ContextOverflow", "org.varlink.service.InvalidParameter",
                "org.varlink.service.InterfaceNotFound",
            ]
            for idl in interfaces {
            for method in idl.methods {
                let qualified = idl.name + "." + method.name
                for (path, parameters) in Self.cases(method.parameters, idl) {
                    calls += 1
                    let message = #"{"method":""# + qualified + #"","parameters":"# + parameters.text + "}"
                    let client = try VarlinkTestClient(path: socket)
                    client.send(Array(message.utf8) + [0])
                    let reply = try client.receive(timeout: 60)
                    let what = "\(method.name) \(path) = \(parameters.text.prefix(200))"
                    if let reply, let error = reply["error"] as? String {
                        #expect(knownErrors.contains(error), "\(what): \(reply)")
                        if error.hasSuffix("InvalidParameter"), error.hasPrefix("io.") {
                            let named = (reply["parameters"] as? [String: Any])?["parameter"] as? String ?? ""
                            #expect(!named.isEmpty, "\(what): the error names no parameter")
                        }
                        answers[error, default: 0] += 1
                    } else {
                        #expect(reply?["parameters"] is [String: Any], "\(what): no answer (\(String(describing: reply)))")
                        answers["answered", default: 0] += 1
                    }
                    client.close()
                    let alive = try status.collect("io.brise.Inference.GetStatus")
                    #expect((alive.first?["parameters"] as? [String: Any])?["state"] != nil, "GetStatus after \(what)")
                    #expect(daemon.waitForExit(timeout: 0) == nil, "brised died after \(what): \(daemon.standardError.suffix(2000))")
                    if daemon.waitForExit(timeout: 0) != nil { return }
                }
            }
            }
            let methods = interfaces.map(\.methods.count).reduce(0, +)
            print("interface edges: \(calls) calls over \(methods) methods; \(answers.sorted { $0.key < $1.key })")
            #expect(calls >= 500)
            #expect(answers["answered", default: 0] > 0 && answers["io.brise.Inference.InvalidParameter", default: 0] > 0)
            #expect(daemon.pid == pid && daemon.waitForExit(timeout: 0) == nil)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }

        /// The message from the issue: a typed error naming the field and its range, and the daemon lives.
        @Test func maxTokensAtInt64MaxIsAnInvalidParameter() throws {
            let (daemon, socket) = try Daemon.start()
            let client = try VarlinkTestClient(path: socket)
            client.send(Array(#"{"method":"io.brise.Inference.Generate","parameters":{"prompt":"hi","options":{"max_tokens":9223372036854775807}}}"#.utf8) + [0])
            let reply = try #require(try client.receive())
            #expect(Daemon.errorName(reply) == "io.brise.Inference.InvalidParameter")
            let parameters = reply["parameters"] as? [String: Any]
            #expect(parameters?["parameter"] as? String == "options.max_tokens")
            #expect((parameters?["reason"] as? String)?.contains("1…16777216") == true, "\(reply)")
            // Within the wire bounds but past this model's context (256): the context's range.
            let past = try client.collect("io.brise.Inference.Generate", ["prompt": "hi", "options": ["max_tokens": 100_000]])
            #expect(((past.first?["parameters"] as? [String: Any])?["reason"] as? String)?.contains("1…256") == true, "\(past)")
            // A seed of 2⁶⁴−1 is a seed.
            client.send(Array(#"{"method":"io.brise.Inference.Generate","parameters":{"prompt":"hi","options":{"max_tokens":2,"seed":18446744073709551615}}}"#.utf8) + [0])
            let seeded = try #require(try client.receive())
            #expect((seeded["parameters"] as? [String: Any])?["finish_reason"] as? String == "length", "\(seeded)")
            try HostileClients.healthy(socket)
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 20) == 0)
        }
    }
}
