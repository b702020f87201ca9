import Foundation

/// A Varlink interface description, parsed from the text the daemon serves
/// (`org.varlink.service.GetInterfaceDescription`): enough of the IDL to walk every method's
/// parameters and every field of their types.
struct VarlinkIDL {
    /// A field's type: `int`, `float`, `string`, `bool`, `object`, a named type, `[]T` or `?T`.
    indirect enum FieldType: Equatable {
        case int, float, string, bool, object
        case named(String)
        case array(FieldType)
        case optional(FieldType)
    }

    struct Field: Equatable {
        var name: String
        var type: FieldType
    }

    let name: String
    var types: [String: [Field]] = [:]
    var methods: [(name: String, parameters: [Field])] = []

    init(_ text: String) throws {
        // Drop comments, then read `interface`, `type`, `method` and `error` declarations.
        let code = text.split(separator: "\n").map { line in line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
            .joined(separator: " ")
        var scanner = Scanner(code)
        var name = ""
        while let word = scanner.word() {
            switch word {
            case "interface": name = scanner.word() ?? ""
            case "type":
                let typeName = scanner.word() ?? ""
                types[typeName] = try scanner.fields()
            case "method":
                let methodName = scanner.word() ?? ""
                let parameters = try scanner.fields()
                scanner.expect("->")
                _ = try scanner.fields()
                methods.append((methodName, parameters))
            case "error":
                _ = scanner.word()
                _ = try scanner.fields()
            default:
                throw DaemonTestError("unexpected \(word) in the interface description")
            }
        }
        self.name = name
    }

    private struct Scanner {
        let scalars: [Character]
        var index = 0

        init(_ text: String) { scalars = Array(text) }

        mutating func skipSpace() { while index < scalars.count, scalars[index].isWhitespace { index += 1 } }

        mutating func word() -> String? {
            skipSpace()
            var out = ""
            while index < scalars.count, scalars[index].isLetter || scalars[index].isNumber || "._".contains(scalars[index]) {
                out.append(scalars[index])
                index += 1
            }
            return out.isEmpty ? nil : out
        }

        mutating func expect(_ literal: String) {
            skipSpace()
            index += literal.count
        }

        mutating func fields() throws -> [Field] {
            skipSpace()
            guard index < scalars.count, scalars[index] == "(" else { throw DaemonTestError("expected ( at \(index)") }
            index += 1
            var fields: [Field] = []
            while true {
                skipSpace()
                if scalars[index] == ")" {
                    index += 1
                    return fields
                }
                if scalars[index] == "," { index += 1; continue }
                guard let name = word() else { throw DaemonTestError("expected a field name at \(index)") }
                expect(":")
                fields.append(Field(name: name, type: try type()))
            }
        }

        mutating func type() throws -> FieldType {
            skipSpace()
            if scalars[index] == "?" {
                index += 1
                return .optional(try type())
            }
            if scalars[index] == "[" {
                index += 2  // []
                return .array(try type())
            }
            guard let word = word() else { throw DaemonTestError("expected a type at \(index)") }
            switch word {
            case "int": return .int
            case "float": return .float
            case "string": return .string
            case "bool": return .bool
            case "object": return .object
            default: return .named(word)
            }
        }
    }
}
