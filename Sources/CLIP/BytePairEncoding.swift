import Foundation

/// CLIP's byte-level BPE vocabulary and merges, with the merge loop of open_clip's
/// `SimpleTokenizer.bpe`. Symbols are vocabulary ids throughout: every merge result is
/// itself in the vocabulary, so a merge is a lookup of an id pair.
final class BytePairEncoding: @unchecked Sendable {
  /// open_clip's `bytes_to_unicode`: printable bytes map to themselves, the rest to U+0100…
  /// Ordered as open_clip's dict is (printable bytes first), which is the vocabulary's order.
  static let byteTable: [(byte: Int, character: String)] = {
    let printable = Array(33...126) + Array(161...172) + Array(174...255)
    let others = (0..<256).filter { !printable.contains($0) }
    let characters = printable.map { $0 } + others.indices.map { 256 + $0 }
    return zip(printable + others, characters).map { byte, code in
      (byte, String(Character(Unicode.Scalar(UInt32(code))!)))
    }
  }()

  /// The character standing for each byte value, indexed by the byte.
  static let byteCharacters: [String] = {
    var result = [String](repeating: "", count: 256)
    for entry in byteTable { result[entry.byte] = entry.character }
    return result
  }()

  let vocabulary: [String: Int32]
  /// (left id << 32 | right id) → (rank, merged id).
  private let merges: [UInt64: (rank: Int32, merged: Int32)]
  private let byteIDs: [Int32]
  private let endOfWordByteIDs: [Int32]
  private var cache: [String: [Int32]] = [:]
  private let cacheLock = NSLock()

  init(vocabulary: [String: Int32], merges: [(String, String)]) throws {
    self.vocabulary = vocabulary
    var table: [UInt64: (rank: Int32, merged: Int32)] = [:]
    for (rank, (left, right)) in merges.enumerated() {
      guard let leftID = vocabulary[left], let rightID = vocabulary[right],
        let merged = vocabulary[left + right]
      else {
        throw TokenizerError.malformedVocabulary("merge '\(left) \(right)' uses unknown symbols")
      }
      table[Self.key(leftID, rightID)] = (Int32(rank), merged)
    }
    self.merges = table
    byteIDs = try Self.byteCharacters.map { try Self.lookup(vocabulary, $0) }
    endOfWordByteIDs = try Self.byteCharacters.map { try Self.lookup(vocabulary, $0 + "</w>") }
  }

  private static func lookup(_ vocabulary: [String: Int32], _ symbol: String) throws -> Int32 {
    guard let id = vocabulary[symbol] else {
      throw TokenizerError.malformedVocabulary("the vocabulary has no symbol '\(symbol)'")
    }
    return id
  }

  @inline(__always)
  private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
  }

  /// The ids of one pre-tokenized word (its UTF-8 bytes, last one marked end-of-word).
  func encode(word: String) -> [Int32] {
    cacheLock.lock()
    let cached = cache[word]
    cacheLock.unlock()
    if let cached { return cached }
    let bytes = Array(word.utf8)
    guard !bytes.isEmpty else { return [] }
    var symbols = bytes.dropLast().map { byteIDs[Int($0)] } + [endOfWordByteIDs[Int(bytes.last!)]]
    mergeAll(&symbols)
    cacheLock.lock()
    if cache.count > 50_000 { cache.removeAll(keepingCapacity: true) }
    cache[word] = symbols
    cacheLock.unlock()
    return symbols
  }

  /// Repeatedly merges the adjacent pair with the lowest rank, all its occurrences left to
  /// right, until no known pair is left.
  private func mergeAll(_ symbols: inout [Int32]) {
    while symbols.count > 1 {
      var best: (rank: Int32, left: Int32, right: Int32, merged: Int32)?
      for index in 0..<symbols.count - 1 {
        if let merge = merges[Self.key(symbols[index], symbols[index + 1])],
          merge.rank < (best?.rank ?? .max)
        {
          best = (merge.rank, symbols[index], symbols[index + 1], merge.merged)
        }
      }
      guard let best else { return }
      var merged: [Int32] = []
      merged.reserveCapacity(symbols.count)
      var index = 0
      while index < symbols.count {
        if index < symbols.count - 1 && symbols[index] == best.left && symbols[index + 1] == best.right {
          merged.append(best.merged)
          index += 2
        } else {
          merged.append(symbols[index])
          index += 1
        }
      }
      symbols = merged
    }
  }
}
