import Foundation

/// A text argument where `-` means standard input, as Unix tools read it.
enum TextArgument {
    /// The most bytes read from standard input (a prompt far beyond any model's context).
    static let maximumBytes = 16 << 20

    /// `argument`, or all of standard input when it is `-`.
    ///
    /// - Parameter argument: The argument as given.
    /// - Returns: The text.
    /// - Throws: `TextArgumentError` when standard input is not UTF-8 or exceeds `maximumBytes`.
    static func resolve(_ argument: String) throws -> String {
        guard argument == "-" else { return argument }
        var data = Data()
        while data.count <= maximumBytes {
            guard let chunk = try FileHandle.standardInput.read(upToCount: 1 << 16), !chunk.isEmpty else { break }
            data.append(chunk)
        }
        guard data.count <= maximumBytes else {
            throw TextArgumentError(message: "standard input holds more than \(maximumBytes >> 20) MiB")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TextArgumentError(message: "standard input is not UTF-8 text")
        }
        return text
    }
}

/// Standard input that cannot be the text argument.
struct TextArgumentError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
