import Foundation
import GGUF
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What the writer writes, the reader reads back: every value type, nesting, alignment, tensors.
@Suite struct WriterTests {
    static func everyType() -> GGUFWriter {
        var writer = GGUFWriter(alignment: 64)
        writer.add("u8", .uint8(.max))
        writer.add("i8", .int8(.min))
        writer.add("u16", .uint16(.max))
        writer.add("i16", .int16(.min))
        writer.add("u32", .uint32(.max))
        writer.add("i32", .int32(.min))
        writer.add("f32", .float32(-.leastNonzeroMagnitude))
        writer.add("bool", .bool(true))
        writer.add("str", .string("héllo ✓ 中文"))
        writer.add("empty", .string(""))
        writer.add("u64", .uint64(.max))
        writer.add("i64", .int64(.min))
        writer.add("f64", .float64(.pi))
        writer.add("nested", .array(elementType: .array, [.strings(["a", "bc"]), .strings([]), .int32s([1])]))
        return writer
    }

    @Test(arguments: [UInt32(2), 3])
    func everyValueTypeRoundTrips(version: UInt32) throws {
        var writer = Self.everyType()
        writer.version = version
        try writer.addTensor(name: "w", dimensions: [64, 3], type: .q4_0, data: (0..<(2 * 18 * 3)).map { UInt8($0 % 251) })
        try writer.addTensor(name: "n", dimensions: [5], type: .f32, data: [UInt8](repeating: 0x3F, count: 20))
        let file = try TinyGGUF.parse(try writer.serialized())
        #expect(file.version == version)
        #expect(file.alignment == 64)
        let m = file.metadata
        #expect(try m.integer("u8") == 255)
        #expect(try m.integer("i8") == -128)
        #expect(try m.integer("u16") == 65535)
        #expect(try m.integer("i16") == -32768)
        #expect(try m.integer("u32") == Int(UInt32.max))
        #expect(try m.integer("i32") == Int(Int32.min))
        #expect(m["f32"].flatMap { if case .float32(let v) = $0 { v.bitPattern } else { nil } }
            == (-Float.leastNonzeroMagnitude).bitPattern)
        #expect(try m.bool("bool") == true)
        #expect(try m.string("str") == "héllo ✓ 中文")
        #expect(try m.string("empty") == "")
        #expect(throws: GGUFError.self) { try m.integer("u64") }  // too large for Int
        #expect(try m.integer("i64") == Int(Int64.min))
        #expect(try m.number("f64") == .pi)
        let nested = try #require(try m.array("nested"))
        #expect(nested.elementType == .array && nested.count == 3)
        let inner = try nested.values().compactMap(\.arrayValue)
        #expect(try inner[0].strings() == ["a", "bc"])
        #expect(inner[1].isEmpty)
        #expect(try inner[2].integers() == [1])

        #expect(file.tensors.map(\.offset) == [0, 128])
        #expect(file.tensors[0].byteCount == 108 && file.tensors[0].rowCount == 3 && file.tensors[0].rowByteCount == 36)
        file.withTensorBytes(file.tensors[0]) { bytes in
            #expect(bytes.count == 108)
            #expect(bytes[107] == UInt8(107 % 251))
        }
    }

    @Test func wrongTypeLookupsNameTheKey() throws {
        let file = try TinyGGUF.parse(try Self.everyType().serialized())
        do {
            _ = try file.metadata.string("u8")
            Issue.record("expected an error")
        } catch let error as GGUFError {
            #expect(error.code == .wrongValueType)
            #expect(error.message.contains("u8"))
            #expect(error.offset != nil)
        }
    }

    @Test func writerRefusesInconsistentTensors() {
        var writer = GGUFWriter()
        #expect(throws: GGUFError.self) { try writer.addTensor(name: "x", dimensions: [33], type: .q8_0) }
        #expect(throws: GGUFError.self) { try writer.addTensor(name: "x", dimensions: [32], type: .q8_0, data: [1]) }
        #expect(throws: GGUFError.self) { try writer.addTensor(name: "x", dimensions: [1, 1, 1, 1, 1], type: .f32) }
        #expect(throws: Never.self) { try writer.addTensor(name: "x", dimensions: [32], type: .q8_0) }
        #expect(throws: GGUFError.self) { try writer.addTensor(name: "x", dimensions: [32], type: .q8_0) }
    }

    /// Zero tensors written to disk are holes: a 3 GiB model-shaped file takes almost no disk.
    @Test func sparseFileOnDisk() throws {
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("llama"))
        try writer.addTensor(name: "big", dimensions: [4096, 393_216], type: .f16)  // 3 GiB of zeros
        try writer.addTensor(name: "small", dimensions: [4], type: .f32, data: [UInt8](repeating: 0x41, count: 16))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("brise-sparse-\(UUID()).gguf").path
        defer { unlink(path) }
        try writer.write(to: path)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(Int(info.st_size) > 3 << 30)
        #expect(Int(info.st_blocks) * 512 < 1 << 20)
        let file = try GGUFFile(path: path)
        #expect(file.tensorByteCount == (3 << 30) + 16)
        file.withTensorBytes(try #require(file.tensor(named: "small"))) { #expect(Array($0) == [UInt8](repeating: 0x41, count: 16)) }
    }
}

/// Reading a model's header, metadata and tensor table (everything `brise inspect` reads) touches no
/// tensor byte: on a freshly written 2 GB file, no page of the data section becomes resident.
@Suite struct NoTensorDataReadTests {
    @Test func parsingTouchesNoTensorPage() throws {
        var writer = try TinyGGUF.model(shape: .init(vocabulary: 50_000), withData: false)
        try writer.addTensor(name: "w", dimensions: [4096, 262_144], type: .f16)  // 2 GiB of holes
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("brise-nodata-\(UUID()).gguf").path
        defer { unlink(path) }
        try writer.write(to: path)

        let file = try GGUFFile(path: path)
        _ = try ModelConfiguration(metadata: file.metadata)
        _ = try file.metadata.array("tokenizer.ggml.tokens")?.prefix(16)
        // The big tensor's pages, from the first page boundary inside it (the page before may hold
        // the end of the tensor table, which parsing reads).
        let w = try #require(file.tensor(named: "w"))
        let page = 1 << 16
        let data = ((w.absoluteOffset + page - 1) / page * page)..<w.fileRange.upperBound
        #expect(data.count >= 2 << 30 - page)
        #expect(try file.file.residentByteCount(range: data) == 0)
        // And the probe itself works: touching one byte brings in that page (and the kernel's
        // read-around), a sliver of the 2 GiB.
        file.withTensorBytes(w) { _ = $0[1 << 30] }
        let resident = try file.file.residentByteCount(range: data)
        print("resident after touching one byte: \(resident) bytes")
        #expect(resident > 0)
        #expect(resident < 64 << 20)
    }
}
