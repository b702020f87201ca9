import Foundation
import GGUF

extension InspectReport {
    /// The report as text for a terminal.
    ///
    /// - Parameters:
    ///   - listMetadata: Whether to list every metadata key.
    ///   - listTensors: Whether to list every tensor.
    /// - Returns: The text, ending with a newline.
    func renderText(listMetadata: Bool, listTensors: Bool) -> String {
        var out = ""
        func line(_ label: String, _ value: String) {
            out += label.padding(toLength: 24, withPad: " ", startingAt: 0) + value + "\n"
        }
        line("file", "\(path)")
        line("", "\(formatBytes(fileSize)), GGUF v\(version), alignment \(alignment), data at byte \(dataOffset)")
        line("model", [name, architecture].compactMap { $0 }.joined(separator: " — "))
        if let fileType {
            line("file type", fileType.name.map { "\($0) (\(fileType.id))" } ?? "unknown (\(fileType.id))")
        }

        if let c = configuration {
            out += "\nhyperparameters\n"
            line("  context length", "\(c.contextLength)")
            line("  embedding length", "\(c.embeddingLength)")
            line("  blocks", "\(c.blockCount)")
            line("  feed-forward length", perLayer(c.feedForwardLength))
            line("  heads (q / kv)", "\(perLayer(c.headCount)) / \(perLayer(c.headCountKV))")
            line("  head dim (k / v)", "\(c.keyLength) / \(c.valueLength)")
            var rope = "θ \(format(c.ropeFreqBase)), \(c.ropeDimensionCount) dims"
            if c.ropeScaling.type != "none" {
                rope += ", \(c.ropeScaling.type) ×\(format(c.ropeScaling.factor)) from \(c.ropeScaling.originalContextLength)"
            }
            line("  rope", rope)
            line("  RMSNorm ε", format(c.rmsNormEpsilon))
            if c.attentionTemperatureScale > 0 {
                line("  attention temperature", "β \(format(c.attentionTemperatureScale))")
            }
            if let window = c.slidingWindow {
                let pattern = c.slidingWindowPattern.map { ", every \($0)th layer global" } ?? ""
                let base = c.ropeFreqBaseSlidingWindow.map { ", local θ \(format($0))" } ?? ""
                line("  sliding window", "\(window)\(pattern)\(base)")
            }
        } else if let configurationError {
            out += "\nhyperparameters       not read: \(configurationError)\n"
        }

        out += "\n"
        var tokenizerText = tokenizer.model ?? "none"
        if let pre = tokenizer.pre { tokenizerText += " (pre \(pre))" }
        if let size = tokenizer.vocabularySize { tokenizerText += ", \(size) tokens" }
        if let merges = tokenizer.mergeCount { tokenizerText += ", \(merges) merges" }
        line("tokenizer", tokenizerText)
        var special: [String] = []
        if let bos = tokenizer.bosTokenID { special.append("BOS \(bos)") }
        if let eos = tokenizer.eosTokenID { special.append("EOS \(eos)") }
        if let addBOS = tokenizer.addBOS { special.append("add BOS \(addBOS ? "yes" : "no")") }
        if !special.isEmpty { line("", special.joined(separator: ", ")) }
        if let first = tokenizer.chatTemplateFirstLine, let bytes = tokenizer.chatTemplateBytes {
            line("chat template", "\(first.prefix(72)) (\(formatBytes(bytes)))")
        } else {
            line("chat template", "none")
        }

        out += "\n"
        line("tensors", "\(tensorCount), \(formatBytes(memory.weightBytes))")
        for entry in bytesByType {
            line("  \(entry.type)", "\(entry.tensors) tensors, \(formatBytes(entry.bytes))")
        }

        out += "\nmemory\n"
        line("  weights (mapped)", formatBytes(memory.weightBytes))
        var perToken: [String: Int] = [:]
        for cache in memory.kvCache { perToken[cache.cacheType] = cache.bytesPerToken }
        if !perToken.isEmpty {
            line(
                "  KV cache per token",
                perToken.sorted { $0.key < $1.key }.map { "\($0.key) \(formatBytes($0.value))" }
                    .joined(separator: ", "))
        }
        for cache in memory.kvCache {
            line("  KV \(cache.cacheType) at \(cache.contextLength)", formatBytes(cache.bytes))
        }

        if listMetadata {
            out += "\nmetadata (\(metadata.count) keys)\n"
            for item in metadata {
                out += "  \(item.key) = \(item.value.text)\n"
            }
        }
        if listTensors {
            out += "\ntensors\n"
            for tensor in tensors {
                out += "  \(tensor.name) \(tensor.type) \(tensor.shape) @\(tensor.offset) \(formatBytes(tensor.bytes))\n"
            }
        }
        return out
    }

    private func perLayer(_ values: [Int]) -> String {
        guard let first = values.first else { return "-" }
        if values.allSatisfy({ $0 == first }) { return "\(first)" }
        return "\(values.min() ?? first)…\(values.max() ?? first) (per layer)"
    }
}

extension MetadataValue {
    /// A one-line rendering, arrays shortened to their first elements.
    var text: String {
        switch self {
        case .scalar(let type, let scalar):
            let value: String =
                switch scalar {
                case .int(let v): "\(v)"
                case .uint(let v): "\(v)"
                case .float(let v): type == .float32 ? "\(Float(v))" : "\(v)"
                case .bool(let v): "\(v)"
                case .string(let v):
                    "\"\(v.prefix(80).replacingOccurrences(of: "\n", with: "\\n"))\(v.count > 80 ? "…" : "")\""
                }
            return "\(value) (\(type))"
        case .array(let elementType, let count, let head):
            let shown = head.prefix(8).map(\.text)
            return "[\(shown.joined(separator: ", "))\(count > shown.count ? ", …" : "")] (\(count) × \(elementType))"
        }
    }
}

/// Bytes as a human size (binary units).
func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : "\(formatDecimal(value, digits: 1)) \(units[unit])"
}

private func format(_ value: Float) -> String {
    value == value.rounded() && abs(value) < 1e9 ? "\(Int(value))" : "\(value)"
}

private func formatDecimal(_ value: Double, digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return "\(rounded)"
}
