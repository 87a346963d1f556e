import Foundation

/// Token ↔ id, keyed by exact scalars.
struct Vocabulary: Sendable {
  private(set) var ids: [Scalars: Int] = [:]

  init(_ pairs: [(String, Int)]) {
    for (token, id) in pairs { ids[Scalars(token)] = id }
  }

  /// The `vocab` object of BPE and WordPiece: token → id.
  init(json: JSONObject) throws {
    guard let object = json.fields["vocab"] as? [String: Any] else {
      throw TokenizationError.malformed("\(json.context).vocab must be an object")
    }
    try self.init(
      object.map { token, id in
        guard let id = id as? NSNumber else { throw TokenizationError.malformed("vocab id of \(token)") }
        return (token, id.intValue)
      })
  }

  subscript(_ token: Scalars) -> Int? { ids[token] }

  /// `<0xAB>`: the byte-fallback token of one byte.
  static func byteToken(_ byte: UInt8) -> Scalars {
    let hex = String(byte, radix: 16, uppercase: true)
    return Scalars("<0x" + (hex.count == 1 ? "0" + hex : hex) + ">")
  }

  /// The byte-fallback ids of `text`, or nil when one is missing.
  func byteIDs(_ text: Scalars) -> [Int]? {
    var result: [Int] = []
    for byte in text.utf8Bytes {
      guard let id = self[Vocabulary.byteToken(byte)] else { return nil }
      result.append(id)
    }
    return result
  }
}
