import Foundation
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A download in progress: `<models>/.partial/<name>.part`, locked by the pull that writes it.
///
/// Bytes are written at explicit offsets (`pwrite`), so what is on disk is always a prefix of the
/// file; a pull that dies leaves that prefix for the next one to resume from. An exclusive `flock`
/// keeps two pulls of the same name from interleaving their bytes.
final class PartialFile {
    /// The file's path.
    let path: String
    /// The bytes written so far (the resume offset).
    private(set) var size: Int
    private var descriptor: FileDescriptor?

    /// Opens (creating it if needed) and locks the partial file.
    ///
    /// - Parameter path: The `.part` path.
    /// - Throws: `ModelStoreError` `.busy` when another pull holds the lock, `.io` when it cannot be
    ///   opened.
    init(path: String) throws {
        self.path = path
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(
                FilePath(path), .readWrite, options: [.create, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw ModelStoreError(.io, "cannot open the partial download \(path)", underlying: error)
        }
        guard flock(descriptor.rawValue, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            try? descriptor.close()
            if code == EWOULDBLOCK {
                throw ModelStoreError(.busy, "another pull is downloading \(path)")
            }
            throw ModelStoreError(.io, "cannot lock \(path)", underlying: Errno(rawValue: code))
        }
        var info = stat()
        guard fstat(descriptor.rawValue, &info) == 0 else {
            let code = errno
            try? descriptor.close()
            throw ModelStoreError(.io, "cannot stat \(path)", underlying: Errno(rawValue: code))
        }
        self.descriptor = descriptor
        size = Int(info.st_size)
    }

    deinit { close() }

    /// Appends bytes at the end.
    ///
    /// - Parameter data: The next bytes of the file.
    /// - Throws: `ModelStoreError` `.noSpace` when the disk is full, `.io` for other write errors.
    func append(_ data: Data) throws {
        let descriptor = try open()
        do {
            let written = try data.withUnsafeBytes { try descriptor.writeAll(toAbsoluteOffset: Int64(size), $0) }
            size += written
        } catch let error as Errno where error == .noSpace || error == .diskQuotaExceeded {
            throw ModelStoreError(.noSpace, "the disk is full writing \(path) at byte \(size)", underlying: error)
        } catch {
            throw ModelStoreError(.io, "cannot write \(path) at byte \(size)", underlying: error)
        }
    }

    /// Drops every byte, to start over.
    ///
    /// - Throws: `ModelStoreError` `.io`.
    func truncate() throws {
        let descriptor = try open()
        do {
            try descriptor.resize(to: 0)
        } catch {
            throw ModelStoreError(.io, "cannot truncate \(path)", underlying: error)
        }
        size = 0
    }

    /// Flushes the bytes to the disk (`fsync`), before the file is renamed into place.
    ///
    /// - Throws: `ModelStoreError` `.io`.
    func sync() throws {
        let descriptor = try open()
        guard fsync(descriptor.rawValue) == 0 else {
            throw ModelStoreError(.io, "cannot fsync \(path)", underlying: Errno(rawValue: errno))
        }
    }

    /// Hashes the bytes already on disk, so a resumed download can go on hashing where they end.
    ///
    /// - Returns: A hasher fed with the file's current bytes.
    /// - Throws: `ModelStoreError` `.io`.
    func hashContents() throws -> SHA256 {
        try SHA256.hashing(open(), count: size, path: path)
    }

    /// Closes the file, releasing the lock.
    func close() {
        try? descriptor?.close()
        descriptor = nil
    }

    private func open() throws -> FileDescriptor {
        guard let descriptor else { throw ModelStoreError(.io, "\(path) is closed") }
        return descriptor
    }
}
