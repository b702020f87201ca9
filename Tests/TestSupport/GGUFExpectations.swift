public import GGUF

/// Compares what Brise read against what gguf-py read (the JSON the fixture scripts commit).
///
/// Expected JSON shapes: fixtures give arrays as `{"elementType", "count", "values"}` (all
/// elements); real-model references and `brise inspect --json` give `"head"` (the first elements).
/// Floats compare as their exact bits at the stored width (NaN equals NaN, −0 differs from +0);
/// integers compare exactly at 64 bits.
public enum GGUFExpectations {
    /// Every difference between a parsed file and gguf-py's reading of it (empty when they agree).
    ///
    /// - Parameters:
    ///   - file: The file as Brise parsed it.
    ///   - expected: gguf-py's reading.
    /// - Returns: Human-readable differences.
    public static func differences(_ file: GGUFFile, expected: JSONValue) throws -> [String] {
        var out: [String] = []
        func check(_ what: String, _ actual: Int, _ json: JSONValue?) {
            if json?.intValue != actual { out.append("\(what): brise \(actual), gguf-py \(String(describing: json))") }
        }
        check("version", Int(file.version), expected["version"])
        check("alignment", file.alignment, expected["alignment"])
        check("dataOffset", file.dataOffset, expected["dataOffset"])
        check("fileSize", file.fileSize, expected["fileSize"])

        let expectedMetadata = expected["metadata"]?.arrayValue ?? []
        if expectedMetadata.count != file.metadata.count {
            out.append("metadata count: brise \(file.metadata.count), gguf-py \(expectedMetadata.count)")
        }
        for (entry, json) in zip(file.metadata.entries, expectedMetadata) {
            if json["key"]?.stringValue != entry.key {
                out.append("metadata key: brise \(entry.key), gguf-py \(String(describing: json["key"]))")
                continue
            }
            try compare(entry.value, json, at: entry.key, into: &out)
        }

        let expectedTensors = expected["tensors"]?.arrayValue ?? []
        if expectedTensors.count != file.tensors.count {
            out.append("tensor count: brise \(file.tensors.count), gguf-py \(expectedTensors.count)")
        }
        for (tensor, json) in zip(file.tensors, expectedTensors) {
            let name = tensor.name
            if json["name"]?.stringValue != name { out.append("tensor name: \(name) vs \(String(describing: json["name"]))") }
            if json["type"]?.stringValue != tensor.type.name { out.append("\(name) type: \(tensor.type)") }
            if json["typeId"]?.intValue != Int(tensor.type.id) { out.append("\(name) type id: \(tensor.type.id)") }
            if json["shape"]?.arrayValue.map(\.intValue) != tensor.dimensions.map(Optional.some) {
                out.append("\(name) shape: brise \(tensor.dimensions), gguf-py \(String(describing: json["shape"]))")
            }
            check("\(name) offset", tensor.offset, json["offset"])
            check("\(name) absoluteOffset", tensor.absoluteOffset, json["absoluteOffset"])
            check("\(name) bytes", tensor.byteCount, json["bytes"])
        }
        return out
    }

    private static func compare(_ value: GGUFValue, _ json: JSONValue, at path: String, into out: inout [String]) throws {
        let type = json["type"]?.stringValue
        if type != value.type.name {
            out.append("\(path): type brise \(value.type), gguf-py \(type ?? "?")")
            return
        }
        if case .array(let array) = value {
            if json["elementType"]?.stringValue != array.elementType.name {
                out.append("\(path): element type brise \(array.elementType), gguf-py \(String(describing: json["elementType"]))")
                return
            }
            if json["count"]?.intValue != array.count {
                out.append("\(path): count brise \(array.count), gguf-py \(String(describing: json["count"]))")
                return
            }
            let listed = (json["values"] ?? json["head"])?.arrayValue ?? []
            let elements = try array.prefix(listed.count)
            if elements.count != listed.count { out.append("\(path): brise has only \(elements.count) elements") }
            for (index, (element, expected)) in zip(elements, listed).enumerated() {
                if case .array = element {
                    try compare(element, expected, at: "\(path)[\(index)]", into: &out)
                } else {
                    compareScalar(element, expected, at: "\(path)[\(index)]", into: &out)
                }
            }
            return
        }
        compareScalar(value, json["value"] ?? .null, at: path, into: &out)
    }

    private static func compareScalar(_ value: GGUFValue, _ json: JSONValue, at path: String, into out: inout [String]) {
        let same: Bool
        switch value {
        case .uint8(let v): same = json == .int(Int64(v))
        case .int8(let v): same = json == .int(Int64(v))
        case .uint16(let v): same = json == .int(Int64(v))
        case .int16(let v): same = json == .int(Int64(v))
        case .uint32(let v): same = json == .int(Int64(v))
        case .int32(let v): same = json == .int(Int64(v))
        case .int64(let v): same = json == .int(v)
        case .uint64(let v): same = json == .uint(v) || (v <= UInt64(Int64.max) && json == .int(Int64(v)))
        case .float32(let v):
            guard let d = json.doubleValue else { same = false; break }
            same = v.isNaN ? d.isNaN : Float(d).bitPattern == v.bitPattern
        case .float64(let v):
            guard let d = json.doubleValue else { same = false; break }
            same = v.isNaN ? d.isNaN : d.bitPattern == v.bitPattern
        case .bool(let v): same = json == .bool(v)
        case .string(let v): same = json == .string(v)
        case .array: same = false
        }
        if !same { out.append("\(path): brise \(value), gguf-py \(json)") }
    }
}
