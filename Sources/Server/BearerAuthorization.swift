package import NIOHTTP1

/// The HTTP face's API-key check on TCP (`api_key_file`): `Authorization: Bearer KEY`.
package enum BearerAuthorization {
    /// Whether the request carries the key, compared in constant time (the key's length is not
    /// secret; its bytes are).
    package static func allows(_ headers: HTTPHeaders, key: [UInt8]) -> Bool {
        guard let value = headers.first(name: "authorization"), value.lowercased().hasPrefix("bearer ") else { return false }
        let sent = Array(value.utf8.dropFirst("bearer ".count))
        var difference = UInt8(sent.count == key.count ? 0 : 1)
        for index in 0..<key.count { difference |= key[index] ^ (index < sent.count ? sent[index] : 0) }
        return difference == 0
    }
}
