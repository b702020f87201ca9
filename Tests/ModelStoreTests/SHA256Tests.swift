import ModelStore
import Testing

/// The hasher a pull checks downloads with, against FIPS 180-4's examples and python's hashlib.
@Suite struct SHA256Tests {
    static func hex(_ text: String) -> String {
        var hasher = SHA256()
        hasher.update(Array(text.utf8))
        return hasher.hexDigest()
    }

    @Test func nistVectors() {
        #expect(Self.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            Self.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var million = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { million.update(chunk) }
        #expect(million.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(million.count == 1_000_000)
    }

    @Test func anySplitOfTheInputGivesTheSameDigest() throws {
        let bytes = try StoreFixtures.model()
        let expected = try StoreFixtures.referenceSHA256(bytes)
        var whole = SHA256()
        whole.update(bytes)
        #expect(whole.hexDigest() == expected)
        for step in [1, 7, 63, 64, 65, 1000, 65_537] {
            var pieces = SHA256()
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + step, bytes.count)
                pieces.update(bytes[offset..<end])
                offset = end
            }
            #expect(pieces.hexDigest() == expected, "step \(step)")
        }
    }
}
