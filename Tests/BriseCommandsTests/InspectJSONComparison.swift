import TestSupport

/// Compares `brise inspect --json` output with gguf-py's reading (fixture JSON or a real-model
/// reference): header fields, every metadata key in order (scalars exactly, arrays by element type,
/// count and first elements), every tensor.
enum InspectJSONComparison {
    static func differences(actual: JSONValue, expected: JSONValue) -> [String] {
        var out: [String] = []
        for field in ["version", "alignment", "dataOffset", "fileSize"] where actual[field] != expected[field] {
            out.append("\(field): brise \(String(describing: actual[field])), gguf-py \(String(describing: expected[field]))")
        }
        let actualMetadata = actual["metadata"]?.arrayValue ?? []
        let expectedMetadata = expected["metadata"]?.arrayValue ?? []
        if actualMetadata.count != expectedMetadata.count {
            out.append("metadata count: brise \(actualMetadata.count), gguf-py \(expectedMetadata.count)")
        }
        for (a, e) in zip(actualMetadata, expectedMetadata) {
            let key = e["key"]?.stringValue ?? "?"
            if a["key"] != e["key"] {
                out.append("key: brise \(String(describing: a["key"])), gguf-py \(key)")
                continue
            }
            compareValue(a, e, at: key, into: &out)
        }
        let actualTensors = actual["tensors"]?.arrayValue ?? []
        let expectedTensors = expected["tensors"]?.arrayValue ?? []
        if actualTensors.count != expectedTensors.count {
            out.append("tensor count: brise \(actualTensors.count), gguf-py \(expectedTensors.count)")
        }
        for (a, e) in zip(actualTensors, expectedTensors) {
            for field in ["name", "type", "typeId", "shape", "offset", "absoluteOffset", "bytes"] where a[field] != e[field] {
                out.append("tensor \(e["name"]?.stringValue ?? "?") \(field): brise \(String(describing: a[field])), gguf-py \(String(describing: e[field]))")
            }
        }
        return out
    }

    /// `a` and `e` are objects with "type" and "value", or "elementType", "count" and "head"/"values".
    private static func compareValue(_ a: JSONValue, _ e: JSONValue, at path: String, into out: inout [String]) {
        guard let type = e["type"]?.stringValue, a["type"]?.stringValue == type else {
            out.append("\(path): type brise \(String(describing: a["type"])), gguf-py \(String(describing: e["type"]))")
            return
        }
        if type == "ARRAY" {
            guard let elementType = e["elementType"]?.stringValue, a["elementType"] == e["elementType"],
                a["count"] == e["count"]
            else {
                out.append("\(path): array brise \(String(describing: a["elementType"])) × \(String(describing: a["count"])), gguf-py \(String(describing: e["elementType"])) × \(String(describing: e["count"]))")
                return
            }
            let head = a["head"]?.arrayValue ?? []
            let listed = (e["head"] ?? e["values"])?.arrayValue ?? []
            let shown = min(listed.count, 16)
            if head.count != shown { out.append("\(path): brise shows \(head.count) elements, expected \(shown)") }
            for (index, (x, y)) in zip(head, listed.prefix(shown)).enumerated() {
                if elementType == "ARRAY" {
                    compareValue(x, y, at: "\(path)[\(index)]", into: &out)
                } else if !sameScalar(x, y, type: elementType) {
                    out.append("\(path)[\(index)]: brise \(x), gguf-py \(y)")
                }
            }
            return
        }
        if !sameScalar(a["value"] ?? .null, e["value"] ?? .null, type: type) {
            out.append("\(path): brise \(String(describing: a["value"])), gguf-py \(String(describing: e["value"]))")
        }
    }

    private static func sameScalar(_ a: JSONValue, _ e: JSONValue, type: String) -> Bool {
        switch type {
        case "FLOAT32":
            guard let x = a.doubleValue, let y = e.doubleValue else { return false }
            return (x.isNaN && y.isNaN) || Float(x).bitPattern == Float(y).bitPattern
        case "FLOAT64":
            guard let x = a.doubleValue, let y = e.doubleValue else { return false }
            return (x.isNaN && y.isNaN) || x.bitPattern == y.bitPattern
        default:
            return a == e
        }
    }
}
