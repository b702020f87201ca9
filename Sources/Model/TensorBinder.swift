import GGUF
import Kernels

/// Binds a GGUF file's tensors in place, by name, checking each shape against what the
/// architecture expects: nothing is copied; the matrices point into the mapping and keep it alive.
struct TensorBinder {
    let file: GGUFFile

    /// The tensor named `name`, which must have `dimensions` (ggml order).
    func info(_ name: String, _ dimensions: [Int]) throws -> GGUFTensorInfo {
        guard let tensor = file.tensor(named: name) else {
            throw ModelError(.missingTensor, "tensor \(name) is missing")
        }
        guard tensor.dimensions == dimensions else {
            throw ModelError(.wrongShape, "tensor \(name) is \(tensor.dimensions), expected \(dimensions)")
        }
        return tensor
    }

    /// Whether the file has a tensor named `name`.
    func has(_ name: String) -> Bool { file.tensor(named: name) != nil }

    /// A weight matrix of `rows` outputs by `columns` inputs (ggml dimensions `[columns, rows]`).
    func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
        try matrix(name, dimensions: [columns, rows], rows: rows, columns: columns)
    }

    /// The `count` matrices of a 3-D tensor, `rows` outputs by `columns` inputs each (ggml dimensions
    /// `[columns, rows, count]`): a mixture of experts' stacked FFN weights, expert `e` at byte
    /// `e · rows · rowStride`.
    func matrices(_ name: String, count: Int, rows: Int, columns: Int) throws -> [WeightMatrix] {
        let tensor = try info(name, [columns, rows, count])
        guard let type = WeightType(ggmlTypeID: tensor.type.id) else {
            throw ModelError(.unsupportedTensorType, "tensor \(name) is \(tensor.type), which Brise cannot compute with yet")
        }
        let base = file.file.withUnsafeBytes { $0.baseAddress! + tensor.absoluteOffset }
        do {
            let first = try WeightMatrix(base: base, type: type, rows: rows, columns: columns, owner: file.file)
            // The tensor's extent was checked against the file when it was parsed; each expert is
            // one `rows × columns` slab of it.
            guard first.byteCount * count == tensor.byteCount else {
                throw ModelError(.wrongShape, "tensor \(name) holds \(tensor.byteCount) bytes, not \(count) × \(first.byteCount)")
            }
            return try (0..<count).map { e in
                e == 0 ? first : try WeightMatrix(base: base + e * first.byteCount, type: type, rows: rows, columns: columns, owner: file.file)
            }
        } catch let error as KernelError {
            throw ModelError(.wrongShape, "tensor \(name): \(error.message)")
        }
    }

    /// An F32 vector of `count` values (norm weights, biases).
    func vector(_ name: String, count: Int) throws -> FloatVector {
        let tensor = try info(name, [count])
        guard tensor.type == .f32 else {
            throw ModelError(.unsupportedTensorType, "tensor \(name) is \(tensor.type); norm weights must be F32")
        }
        let base = file.file.withUnsafeBytes { $0.baseAddress! + tensor.absoluteOffset }
        return FloatVector(base: base.assumingMemoryBound(to: Float.self), count: count, owner: file.file)
    }
}

/// A read-only F32 vector in a mapped file (norm weights). `owner` keeps the bytes alive.
struct FloatVector: @unchecked Sendable {
    // @unchecked Sendable: read-only mapped memory, kept alive by `owner`.
    let base: UnsafePointer<Float>
    let count: Int
    let owner: AnyObject
}

extension TensorBinder {
    /// A weight matrix of `rows` outputs by `columns` inputs stored as a tensor of other dimensions
    /// whose element count is `rows · columns` (a convolution kernel `[kw, kh, channels, outputs]`, read
    /// as `outputs` rows of `kw · kh · channels`).
    func matrix(_ name: String, dimensions: [Int], rows: Int, columns: Int) throws -> WeightMatrix {
        let tensor = try info(name, dimensions)
        guard let type = WeightType(ggmlTypeID: tensor.type.id) else {
            throw ModelError(.unsupportedTensorType, "tensor \(name) is \(tensor.type), which Brise cannot compute with yet")
        }
        let base = file.file.withUnsafeBytes { $0.baseAddress! + tensor.absoluteOffset }
        do {
            return try WeightMatrix(base: base, type: type, rows: rows, columns: columns, owner: file.file)
        } catch let error as KernelError {
            throw ModelError(.wrongShape, "tensor \(name): \(error.message)")
        }
    }

    /// A vector of `count` values of any type the kernels read (F32, F16, a quantized row), as floats.
    func floats(_ name: String, count: Int) throws -> [Float] {
        let matrix = try self.matrix(name, dimensions: [count], rows: 1, columns: count)
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBufferPointer { out in
            matrix.dequantizeRow(0, into: out)
        }
        return values
    }
}
