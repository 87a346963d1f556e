import Foundation

/// Byte-pair encoding as `tokenizers` runs it: byte-level (GPT-2, CLIP: the pre-tokenizer
/// already mapped bytes to characters) and SentencePiece-style (`byte_fallback`, `fuse_unk`),
/// with `continuing_subword_prefix`, `end_of_word_suffix` and `ignore_merges`.
struct BPE: TokenModel {
  struct Merge: Sendable {
    let rank: Int
    let id: Int
  }

  let vocabulary: Vocabulary
  let merges: [PairKey: Merge]
  let unknown: Scalars?
  let prefix: Scalars
  let suffix: Scalars
  let fuseUnknown: Bool
  let byteFallback: Bool
  let ignoreMerges: Bool

  /// The options of a BPE model other than its vocabulary and merges.
  struct Options {
    var unknown: Scalars?
    var prefix: Scalars = []
    var suffix: Scalars = []
    var fuseUnknown = false
    var byteFallback = false
    var ignoreMerges = false
  }

  init(vocabulary: Vocabulary, merges: [(Scalars, Scalars)], options: Options) throws {
    self.vocabulary = vocabulary
    unknown = options.unknown
    prefix = options.prefix
    suffix = options.suffix
    fuseUnknown = options.fuseUnknown
    byteFallback = options.byteFallback
    ignoreMerges = options.ignoreMerges
    self.merges = try BPE.mergeTable(merges, vocabulary, prefixBytes: prefix.utf8Bytes.count)
  }

  init(_ json: JSONObject) throws {
    if let dropout = json.fields["dropout"] as? NSNumber, dropout.doubleValue > 0 {
      throw TokenizationError.unsupported(component: "BPE dropout", type: "\(dropout)")
    }
    let options = Options(
      unknown: json.optionalString("unk_token").map { Scalars($0) },
      prefix: Scalars(json.optionalString("continuing_subword_prefix") ?? ""),
      suffix: Scalars(json.optionalString("end_of_word_suffix") ?? ""),
      fuseUnknown: json.bool("fuse_unk", default: false),
      byteFallback: json.bool("byte_fallback", default: false),
      ignoreMerges: json.bool("ignore_merges", default: false))
    try self.init(
      vocabulary: try Vocabulary(json: json), merges: try json.array("merges").map(BPE.pair), options: options
    )
  }

  /// (left id, right id) → rank and merged id. The merged token is left + right without the
  /// right's first `prefix` bytes; a pair listed twice keeps its last rank, as in Rust.
  static func mergeTable(_ pairs: [(Scalars, Scalars)], _ vocabulary: Vocabulary, prefixBytes: Int) throws
    -> [PairKey: Merge]
  {
    var table: [PairKey: Merge] = [:]
    for (rank, (left, right)) in pairs.enumerated() {
      guard let leftID = vocabulary[left] else { throw TokenizationError.missingToken(left.string) }
      guard let rightID = vocabulary[right] else { throw TokenizationError.missingToken(right.string) }
      let merged = Scalars(
        String(decoding: left.utf8Bytes + right.utf8Bytes.dropFirst(prefixBytes), as: UTF8.self))
      guard let mergedID = vocabulary[merged] else { throw TokenizationError.missingToken(merged.string) }
      table[PairKey(leftID, rightID)] = Merge(rank: rank, id: mergedID)
    }
    return table
  }

  /// A merge is "a b" (older files) or ["a", "b"].
  private static func pair(_ entry: Any) throws -> (Scalars, Scalars) {
    if let parts = entry as? [String], parts.count == 2 { return (Scalars(parts[0]), Scalars(parts[1])) }
    if let line = entry as? String {
      let parts = line.split(separator: " ", omittingEmptySubsequences: false)
      if parts.count == 2 { return (Scalars(String(parts[0])), Scalars(String(parts[1]))) }
    }
    throw TokenizationError.malformed("BPE merge \(entry) is not a pair")
  }

  func id(of token: Scalars) -> Int? { vocabulary[token] }

  func tokenize(_ word: Scalars) throws -> [Int] {
    if word.isEmpty { return [] }
    if ignoreMerges, let id = vocabulary[word] { return [id] }
    var symbols = try initialSymbols(word)
    mergeAll(&symbols)
    return symbols
  }

  /// One symbol per scalar (with prefix/suffix), else its bytes, else the unknown token
  /// (consecutive unknowns fused when `fuse_unk`). Ported from `BPE::merge_word`, including
  /// that a pending unknown is emitted only at the next known symbol or the end.
  private func initialSymbols(_ word: Scalars) throws -> [Int] {
    var symbols: [Int] = []
    var pendingUnknown: Int?
    for index in word.indices {
      var symbol = [word[index]]
      if index > 0 { symbol = prefix + symbol }
      if index == word.count - 1 { symbol += suffix }
      if let id = vocabulary[symbol] {
        if let unknown = pendingUnknown.take() { symbols.append(unknown) }
        symbols.append(id)
        continue
      }
      if byteFallback, let bytes = vocabulary.byteIDs(symbol) {
        symbols += bytes
        continue
      }
      guard let unknown else { continue }
      guard let unknownID = vocabulary[unknown] else { throw TokenizationError.missingToken(unknown.string) }
      if let previous = pendingUnknown, !fuseUnknown { symbols.append(previous) }
      pendingUnknown = unknownID
    }
    if let unknown = pendingUnknown { symbols.append(unknown) }
    return symbols
  }

  /// `Word::merge_all`: always the lowest-ranked pair, leftmost first, via a heap whose stale
  /// entries are skipped.
  private func mergeAll(_ ids: inout [Int]) {
    guard ids.count > 1 else { return }
    var next = Array(1...ids.count)
    next[ids.count - 1] = -1
    var previous = Array(-1..<(ids.count - 1))
    var alive = [Bool](repeating: true, count: ids.count)
    var heap = MergeHeap()
    for position in 0..<(ids.count - 1) { push(&heap, ids, position, next[position]) }
    while let top = heap.pop() {
      let position = top.position
      guard alive[position], next[position] >= 0 else { continue }
      let right = next[position]
      guard merges[PairKey(ids[position], ids[right])]?.id == top.id else { continue }
      ids[position] = top.id
      alive[right] = false
      next[position] = next[right]
      if next[right] >= 0 { previous[next[right]] = position }
      if previous[position] >= 0 { push(&heap, ids, previous[position], position) }
      if next[position] >= 0 { push(&heap, ids, position, next[position]) }
    }
    ids = ids.indices.filter { alive[$0] }.map { ids[$0] }
  }

  private func push(_ heap: inout MergeHeap, _ ids: [Int], _ left: Int, _ right: Int) {
    if let merge = merges[PairKey(ids[left], ids[right])] {
      heap.push(.init(rank: merge.rank, position: left, id: merge.id))
    }
  }
}

struct PairKey: Hashable, Sendable {
  let value: UInt64
  init(_ left: Int, _ right: Int) { value = UInt64(UInt32(left)) << 32 | UInt64(UInt32(right)) }
}

extension Optional {
  /// Returns the value and leaves nil behind.
  fileprivate mutating func take() -> Wrapped? {
    defer { self = nil }
    return self
  }
}
