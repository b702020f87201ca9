import SystemPackage

extension SHA256 {
    /// Hashes the first `count` bytes of an open file, reading 1 MiB at a time.
    ///
    /// - Parameters:
    ///   - descriptor: The open file.
    ///   - count: How many bytes to hash, from offset 0.
    ///   - path: The file's path, for error messages.
    /// - Returns: A hasher fed with those bytes (it can go on with more).
    /// - Throws: `ModelStoreError` `.io` when a read fails or the file is shorter.
    static func hashing(_ descriptor: FileDescriptor, count: Int, path: String) throws -> SHA256 {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = 0
        while offset < count {
            let want = min(buffer.count, count - offset)
            let got = try buffer.withUnsafeMutableBytes { raw in
                do {
                    return try descriptor.read(
                        fromAbsoluteOffset: Int64(offset), into: UnsafeMutableRawBufferPointer(rebasing: raw[..<want]))
                } catch {
                    throw ModelStoreError(.io, "cannot read \(path) at byte \(offset)", underlying: error)
                }
            }
            guard got > 0 else { throw ModelStoreError(.io, "\(path) ends at byte \(offset), expected \(count)") }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
            offset += got
        }
        return hasher
    }

    /// Hashes a whole file.
    ///
    /// - Parameter path: The file.
    /// - Returns: The file's size and SHA-256 as lowercase hex.
    /// - Throws: `ModelStoreError` `.io`.
    static func hashFile(atPath path: String) throws -> (size: Int, hex: String) {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw ModelStoreError(.io, "cannot open \(path)", underlying: error)
        }
        defer { try? descriptor.close() }
        let size: Int
        do {
            size = Int(try descriptor.seek(offset: 0, from: .end))
        } catch {
            throw ModelStoreError(.io, "cannot find the size of \(path)", underlying: error)
        }
        return (size, try hashing(descriptor, count: size, path: path).hexDigest())
    }
}
