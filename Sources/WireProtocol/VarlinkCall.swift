import Foundation

/// A Varlink call received from a client: `{"method": …, "parameters": {…}, "more": …, "oneway": …}`.
///
/// The envelope is decoded first; the parameters are decoded on demand into the method's own type,
/// so one bad parameter becomes an `InvalidParameter` error naming it, never a crash.
public struct VarlinkCall: Sendable {
    /// The fully qualified method (`io.brise.Inference.Generate`).
    public var method: String
    /// The client wants a stream of replies (`"continues": true` until the last).
    public var more: Bool
    /// The client wants no reply.
    public var oneway: Bool
    /// The client wants the connection upgraded to another protocol (not supported by Brise).
    public var upgrade: Bool
    private let message: Data

    /// The message as received (without its NUL), for readers that need more than `Codable` keeps
    /// (the order of keys in a JSON schema).
    public var bytes: [UInt8] { Array(message) }

    private struct Envelope: Decodable {
        var method: String
        var more: Bool?
        var oneway: Bool?
        var upgrade: Bool?
    }

    private struct ParametersOnly<P: Decodable>: Decodable {
        var parameters: P?
    }

    /// Decodes one message (without its NUL).
    ///
    /// - Parameter bytes: The message.
    /// - Throws: `WireError.invalidMessage` for anything that is not a Varlink call.
    public init(bytes: [UInt8]) throws(WireError) {
        message = Data(bytes)
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: message)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            // Not JSON at all, or JSON this decoder refuses anywhere in the message (a number past
            // 64 bits or 1e400, a lone surrogate, nesting past 512).
            let detail = context.underlyingError.map { ": \(String(describing: $0).prefix(200))" } ?? ""
            throw WireError.invalidMessage(reason: "not valid JSON\(detail)")
        } catch {
            throw WireError.invalidMessage(reason: "not a Varlink call (a JSON object with a \"method\" string)")
        }
        guard envelope.method.contains("."), !envelope.method.hasPrefix("."), !envelope.method.hasSuffix(".") else {
            throw WireError.invalidMessage(reason: "method \"\(envelope.method)\" is not interface.Method")
        }
        method = envelope.method
        more = envelope.more ?? false
        oneway = envelope.oneway ?? false
        upgrade = envelope.upgrade ?? false
    }

    /// The interface part of the method name.
    public var interface: String {
        String(method[..<(method.lastIndex(of: ".") ?? method.endIndex)])
    }

    /// The call's parameters as `type` (absent parameters decode as an empty object).
    ///
    /// - Parameter type: The method's parameter type.
    /// - Returns: The parameters.
    /// - Throws: `WireError.invalidParameter` naming the first bad field.
    public func parameters<P: Decodable>(_ type: P.Type) throws(WireError) -> P {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            if let parameters = try decoder.decode(ParametersOnly<P>.self, from: message).parameters {
                return parameters
            }
            return try decoder.decode(P.self, from: Data("{}".utf8))
        } catch let error as DecodingError {
            throw Self.describe(error)
        } catch {
            throw WireError.invalidParameter(parameter: "parameters", reason: "\(error)")
        }
    }

    /// The wire (snake_case) name of a Swift (camelCase) property name: `topP` → `top_p`.
    public static func wireName(_ name: String) -> String {
        name.reduce(into: "") { out, c in
            if c.isUppercase { out += "_" + c.lowercased() } else { out.append(c) }
        }
    }

    private static func describe(_ error: DecodingError) -> WireError {
        // Wire names are snake_case; the decoder's keys are their camelCase forms.
        let snake = wireName
        func path(_ codingPath: [any CodingKey]) -> String {
            let names = codingPath.map { $0.intValue.map { "[\($0)]" } ?? snake($0.stringValue) }.filter { $0 != "parameters" }
            return names.isEmpty ? "parameters" : names.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .invalidParameter(parameter: path(context.codingPath + [key]), reason: "missing")
        case .typeMismatch(let type, let context):
            return .invalidParameter(parameter: path(context.codingPath), reason: "expected \(type)")
        case .valueNotFound(let type, let context):
            return .invalidParameter(parameter: path(context.codingPath), reason: "expected \(type), got null")
        case .dataCorrupted(let context):
            return .invalidParameter(parameter: path(context.codingPath), reason: context.debugDescription)
        @unknown default:
            return .invalidParameter(parameter: "parameters", reason: "\(error)")
        }
    }
}

/// Encodes Varlink replies: `{"parameters": {…}, "continues": true}` or `{"error": …, "parameters": {…}}`,
/// each followed by its NUL.
public enum VarlinkReply {
    private struct Reply<P: Encodable>: Encodable {
        var parameters: P
        var continues: Bool?
    }

    private struct ErrorReply: Encodable {
        var error: String
        var parameters: [String: WireJSON]
    }

    /// A reply carrying `parameters`.
    ///
    /// - Parameters:
    ///   - parameters: The method's reply type.
    ///   - continues: Whether more replies follow (streaming).
    /// - Returns: The bytes to send, NUL included.
    public static func encode<P: Encodable>(_ parameters: P, continues: Bool = false) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Encoding plain structs of strings and numbers cannot fail; a NaN would: send it as an error.
        guard let data = try? encoder.encode(Reply(parameters: parameters, continues: continues ? true : nil)) else {
            return encode(error: .invalidParameter(parameter: "reply", reason: "could not be encoded"))
        }
        return Array(data) + [0]
    }

    /// An error reply.
    ///
    /// - Parameter error: The error.
    /// - Returns: The bytes to send, NUL included.
    public static func encode(error: WireError) -> [UInt8] {
        let data = (try? JSONEncoder().encode(ErrorReply(error: error.name, parameters: error.parameters))) ?? Data()
        return Array(data) + [0]
    }
}
