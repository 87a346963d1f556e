import Foundation

/// SentencePiece's compiled normalization rules (`precompiled_charsmap`), as XLM-R, T5 and
/// other SentencePiece models carry them: a little-endian u32 byte size, a darts-clone
/// double-array trie of u32 units keyed by UTF-8 bytes, then NUL-terminated replacement
/// strings that the trie's values point into.
struct Precompiled: Normalizer {
  private let units: [UInt32]
  private let replacements: [UInt8]

  init(base64: String) throws {
    guard let data = Data(base64Encoded: base64), data.count >= 4 else {
      throw TokenizationError.malformed("precompiled_charsmap is not base64")
    }
    let bytes = [UInt8](data)
    let trieSize = Int(Precompiled.littleEndian(bytes, 0))
    guard trieSize % 4 == 0, 4 + trieSize <= bytes.count else {
      throw TokenizationError.malformed("precompiled_charsmap trie size \(trieSize) exceeds the data")
    }
    units = stride(from: 4, to: 4 + trieSize, by: 4).map { Precompiled.littleEndian(bytes, $0) }
    replacements = Array(bytes[(4 + trieSize)...])
  }

  private static func littleEndian(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
  }

  /// As `tokenizers` applies it: per extended grapheme cluster, the whole cluster (when
  /// shorter than 6 UTF-8 bytes) is looked up first, then each scalar on its own. A lookup
  /// takes the trie's first (shortest) prefix match, which is how sentencepiece's charsmap is
  /// consulted by `tokenizers`, quirks included.
  ///
  /// A first grapheme replaced by nothing does not count as moving the text's start: the
  /// Rust code records no removal before the first kept scalar, which inherits offset 0.
  func normalize(_ text: Scalars) -> Scalars {
    var output: Scalars = []
    output.reserveCapacity(text.count)
    for grapheme in text.string {
      let scalars = Scalars(grapheme.unicodeScalars)
      let bytes = Array(String(grapheme).utf8)
      if bytes.count < 6, let replaced = transform(bytes) {
        output += replaced
      } else {
        for scalar in scalars { output += transform(Array(String(scalar).utf8)) ?? [scalar] }
      }
    }
    return output
  }

  /// The replacement for the shortest key of the trie that prefixes `key`, if any.
  func transform(_ key: [UInt8]) -> Scalars? {
    guard let offset = firstPrefixValue(key) else { return nil }
    var end = offset
    while end < replacements.count, replacements[end] != 0 { end += 1 }
    guard offset <= end else { return nil }
    return Scalars(String(decoding: replacements[offset..<end], as: UTF8.self))
  }

  /// darts-clone's common-prefix search, stopped at its first result.
  private func firstPrefixValue(_ key: [UInt8]) -> Int? {
    guard !units.isEmpty else { return nil }
    var position = Int(Precompiled.offset(units[0]))
    for byte in key {
      if byte == 0 { return nil }
      position ^= Int(byte)
      guard position < units.count else { return nil }
      let unit = units[position]
      if unit & ((1 << 31) | 0xFF) != UInt32(byte) { return nil }
      position ^= Int(Precompiled.offset(unit))
      if (unit >> 8) & 1 == 1 {
        guard position < units.count else { return nil }
        return Int(units[position] & ((1 << 31) - 1))
      }
    }
    return nil
  }

  private static func offset(_ unit: UInt32) -> UInt32 { (unit >> 10) << ((unit & (1 << 9)) >> 6) }
}
