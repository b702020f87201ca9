public import GGUF

/// Touches everything a parsed file offers, the way loaders and `brise inspect` will: decodes every
/// array (nested ones too), builds the model configuration, reads every tensor's first and last
/// byte. Used on hostile files that parsed: none of it may trap.
///
/// - Parameter file: A parsed file.
/// - Returns: A checksum of what was read, so the work cannot be optimized away.
/// - Throws: `GGUFError` for data the accessors refuse.
@discardableResult
public func exerciseEverything(_ file: GGUFFile) throws -> Int {
    var checksum = 0
    func visit(_ value: GGUFValue) throws {
        switch value {
        case .array(let array):
            try array.forEach { _, element in
                try visit(element)
                return true
            }
            if array.elementType == .string { checksum &+= try array.strings().count }
        case .string(let string): checksum &+= string.utf8.count
        default: checksum &+= 1
        }
    }
    for entry in file.metadata.entries {
        try visit(entry.value)
    }
    if let configuration = try? ModelConfiguration(metadata: file.metadata) {
        checksum &+= configuration.kvCacheBytesPerToken() ?? 0
        checksum &+= configuration.kvCacheBytes(contextLength: 4096, cacheType: .q8_0) ?? 0
    }
    for tensor in file.tensors where tensor.byteCount > 0 {
        checksum &+= file.withTensorBytes(tensor) { Int($0[0]) + Int($0[$0.count - 1]) }
    }
    return checksum
}
