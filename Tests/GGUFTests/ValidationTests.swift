import Foundation
import GGUF
import Testing
import TestSupport

/// Each kind of malformed file gets its own error code, a message and the right byte offset.
@Suite struct ValidationTests {
    /// A small valid file and where its parts are.
    static func base() throws -> [UInt8] {
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        writer.add("k", .uint32(7))
        try writer.addTensor(name: "a", dimensions: [32, 2], type: .q8_0, data: [UInt8](repeating: 1, count: 68))
        try writer.addTensor(name: "b", dimensions: [8], type: .f32, data: [UInt8](repeating: 2, count: 32))
        return try writer.serialized()
    }

    // Offsets in `base()`: magic 0, version 4, tensor count 8, kv count 16, first key at 24.
    static let firstKeyOffset = 24

    static func expectError(_ bytes: [UInt8], _ code: GGUFError.Code, offset: Int? = nil,
                            limits: GGUFParsingLimits = .default, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try TinyGGUF.parse(bytes, limits: limits)
            Issue.record("parsed, expected \(code)", sourceLocation: sourceLocation)
        } catch let error as GGUFError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            if let offset { #expect(error.offset == offset, "\(error)", sourceLocation: sourceLocation) }
            #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Where tensor info `name` starts in `bytes` (searching for its length-prefixed name).
    static func tensorInfoOffset(_ bytes: [UInt8], _ name: String) -> Int {
        let needle = Array(UInt64(name.utf8.count).leBytes) + Array(name.utf8) + [1, 0, 0, 0]
        let alt = Array(UInt64(name.utf8.count).leBytes) + Array(name.utf8) + [2, 0, 0, 0]
        for i in 0..<(bytes.count - needle.count) where Array(bytes[i..<(i + needle.count)]) == needle
            || Array(bytes[i..<(i + alt.count)]) == alt
        {
            return i
        }
        return -1
    }

    @Test func baseIsValid() throws {
        let file = try TinyGGUF.parse(try Self.base())
        #expect(file.tensors.map(\.name) == ["a", "b"])
        #expect(file.tensors[1].offset == 96)  // 68 bytes padded to 32
    }

    @Test func emptyAndTinyFiles() {
        Self.expectError([], .truncated, offset: 0)
        Self.expectError(Array("GGU".utf8), .truncated, offset: 0)
        Self.expectError(Array("GGUF".utf8), .truncated, offset: 4)
    }

    @Test func badMagic() throws {
        var bytes = try Self.base()
        bytes[0] = UInt8(ascii: "X")
        Self.expectError(bytes, .badMagic, offset: 0)
    }

    @Test(arguments: [UInt32(0), 1, 4, 0x0300_0000])
    func unsupportedVersions(version: UInt32) throws {
        var bytes = try Self.base()
        bytes.patch(version, at: 4)
        Self.expectError(bytes, .unsupportedVersion, offset: 4)
    }

    @Test func countsOverLimitsOrNegative() throws {
        var bytes = try Self.base()
        bytes.patch(UInt64.max, at: 8)  // tensor count -1
        Self.expectError(bytes, .limitExceeded, offset: 8)
        bytes = try Self.base()
        bytes.patch(UInt64(1 << 40), at: 16)
        Self.expectError(bytes, .limitExceeded, offset: 16)
        // Within the limits but impossible for the file's size.
        bytes = try Self.base()
        bytes.patch(UInt64(60_000), at: 16)
        Self.expectError(bytes, .truncated)
        Self.expectError(try Self.base(), .limitExceeded, limits: .init(maxTensorCount: 1))
    }

    @Test func hugeStringLength() throws {
        var bytes = try Self.base()
        bytes.patch(UInt64.max - 3, at: Self.firstKeyOffset)
        Self.expectError(bytes, .limitExceeded, offset: Self.firstKeyOffset)
        bytes.patch(UInt64(1000), at: Self.firstKeyOffset)
        Self.expectError(bytes, .truncated, offset: Self.firstKeyOffset)
    }

    @Test func invalidUTF8Key() throws {
        var bytes = try Self.base()
        bytes[Self.firstKeyOffset + 8] = 0xFF
        Self.expectError(bytes, .invalidString, offset: Self.firstKeyOffset)
    }

    @Test func unknownValueType() throws {
        var bytes = try Self.base()
        let typeOffset = Self.firstKeyOffset + 8 + "general.architecture".utf8.count
        bytes.patch(UInt32(13), at: typeOffset)
        Self.expectError(bytes, .invalidValueType, offset: typeOffset)
    }

    @Test func duplicateKeyAndTensor() throws {
        var writer = GGUFWriter()
        writer.add("a", .uint8(1))
        writer.add("b", .uint8(2))
        var bytes = try writer.serialized()
        // Rename key "b" to "a".
        let second = Self.firstKeyOffset + 8 + 1 + 4 + 1
        bytes[second + 8] = UInt8(ascii: "a")
        Self.expectError(bytes, .duplicateKey, offset: second)

        bytes = try Self.base()
        let b = Self.tensorInfoOffset(bytes, "b")
        bytes[b + 8] = UInt8(ascii: "a")
        Self.expectError(bytes, .duplicateTensor, offset: b)
    }

    @Test func badDimensions() throws {
        let bytes = try Self.base()
        let a = Self.tensorInfoOffset(bytes, "a")
        let dims = a + 8 + 1
        var copy = bytes
        copy.patch(UInt32(5), at: dims)
        Self.expectError(copy, .invalidTensor, offset: a)
        copy = bytes
        copy.patch(UInt32(0), at: dims)
        Self.expectError(copy, .invalidTensor, offset: a)
        copy = bytes
        copy.patch(UInt64.max, at: dims + 4)  // ne[0] = -1
        Self.expectError(copy, .invalidTensor, offset: a)
        copy = bytes
        copy.patch(UInt64(33), at: dims + 4)  // not a whole number of Q8_0 blocks
        Self.expectError(copy, .invalidTensor, offset: a)
        copy = bytes
        copy.patch(UInt64(1 << 62), at: dims + 12)  // elements overflow
        Self.expectError(copy, .invalidTensor, offset: a)
    }

    @Test(arguments: [UInt32(4), 5, 31, 36, 42, 0xFFFF_FFFF])
    func unknownTensorType(id: UInt32) throws {
        var bytes = try Self.base()
        let a = Self.tensorInfoOffset(bytes, "a")
        bytes.patch(id, at: a + 8 + 1 + 4 + 16)
        Self.expectError(bytes, .unknownTensorType, offset: a)
    }

    @Test func tensorOffsets() throws {
        let bytes = try Self.base()
        let b = Self.tensorInfoOffset(bytes, "b")
        let offsetField = b + 8 + 1 + 4 + 8 + 4
        var copy = bytes
        copy.patch(UInt64(97), at: offsetField)
        Self.expectError(copy, .misalignedTensor, offset: b)
        copy.patch(UInt64(32), at: offsetField)  // inside tensor a (0..<68)
        Self.expectError(copy, .overlappingTensors, offset: b)
        copy.patch(UInt64(1 << 20), at: offsetField)
        Self.expectError(copy, .tensorOutOfBounds, offset: b)
        copy.patch(UInt64.max - 31, at: offsetField)  // aligned, and offset + size overflows
        Self.expectError(copy, .tensorOutOfBounds, offset: b)
        Self.expectError(Array(bytes.dropLast(1)), .tensorOutOfBounds, offset: b)
    }

    @Test func alignmentMustBeAUInt32PowerOfTwo() throws {
        for value: GGUFWriter.Value in [.uint32(0), .uint32(48), .uint64(64), .int32(32), .string("32")] {
            var writer = GGUFWriter()
            writer.add("general.alignment", value)
            Self.expectError(try writer.serialized(), .invalidAlignment, offset: Self.firstKeyOffset)
        }
    }

    @Test func nestingTooDeep() throws {
        var value = GGUFWriter.Value.int32s([1])
        for _ in 0..<10 { value = .array(elementType: .array, [value]) }
        var writer = GGUFWriter()
        writer.add("deep", value)
        Self.expectError(try writer.serialized(), .limitExceeded)
        #expect(throws: Never.self) { try TinyGGUF.parse(try writer.serialized(), limits: .init(maxArrayNesting: 16)) }
    }

    @Test func arrayCountsCannotExceedTheFile() throws {
        var writer = GGUFWriter()
        writer.add("x", .int32s([1, 2, 3]))
        writer.add("s", .strings(["a", "b"]))
        let bytes = try writer.serialized()
        let countAt = Self.firstKeyOffset + 8 + 1 + 4 + 4
        var copy = bytes
        copy.patch(UInt64(1 << 25), at: countAt)
        Self.expectError(copy, .truncated, offset: countAt - 4)
        copy.patch(UInt64(1 << 30), at: countAt)
        Self.expectError(copy, .limitExceeded, offset: countAt - 4)
    }

    @Test func errorDescriptionNamesCodeAndOffset() throws {
        var bytes = try Self.base()
        bytes[0] = 0
        do {
            _ = try TinyGGUF.parse(bytes)
        } catch let error as GGUFError {
            #expect(error.description.contains("badMagic"))
            #expect(error.description.contains("at byte 0"))
        }
    }
}
