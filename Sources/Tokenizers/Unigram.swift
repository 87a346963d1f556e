import Foundation

/// SentencePiece's Unigram model: the Viterbi path maximising the summed piece scores, a
/// scalar no piece covers scored as the unknown token (min score − 10), consecutive unknowns
/// fused, and unknown text spelled in `<0xAB>` bytes when `byte_fallback` is set.
struct Unigram: TokenModel {
  static let unknownPenalty = 10.0

  let pieces: [(token: Scalars, score: Double)]
  let vocabulary: Vocabulary
  let trie: PieceTrie
  let unknownID: Int
  let minScore: Double
  let byteFallback: Bool

  init(_ json: JSONObject, scores: [UnigramScores.Entry]) throws {
    pieces = scores.map { (Scalars($0.token), $0.score) }
    guard let unknownID = json.optionalInt("unk_id"), pieces.indices.contains(unknownID) else {
      throw TokenizationError.malformed("Unigram needs an unk_id inside its vocab")
    }
    self.unknownID = unknownID
    // A token listed twice maps to its last id, as `token_to_ids` is filled in order.
    vocabulary = Vocabulary(pieces.enumerated().map { ($0.element.token.string, $0.offset) })
    trie = PieceTrie(pieces.map(\.token))
    minScore = pieces.map(\.score).min() ?? 0
    byteFallback = json.bool("byte_fallback", default: false)
  }

  func id(of token: Scalars) -> Int? { vocabulary[token] }

  func tokenize(_ word: Scalars) throws -> [Int] {
    bestPath(word).flatMap { piece -> [Int] in
      if let id = vocabulary[piece] { return [id] }
      if byteFallback, let bytes = vocabulary.byteIDs(piece) { return bytes }
      return [unknownID]
    }
  }

  /// `encode_optimized`: for each end position the best path score and where its last piece
  /// starts; unknown pieces fused on the way back.
  func bestPath(_ word: Scalars) -> [Scalars] {
    guard !word.isEmpty else { return [] }
    var best = [(score: Double, start: Int, id: Int)](repeating: (0, -1, 0), count: word.count + 1)
    let unknownScore = minScore - Unigram.unknownPenalty
    for start in word.indices {
      let base = best[start].score
      var coversOne = false
      for (length, id) in trie.prefixes(of: word, from: start) {
        relax(&best[start + length], base + pieces[id].score, start, id)
        if length == 1 { coversOne = true }
      }
      if !coversOne { relax(&best[start + 1], base + unknownScore, start, unknownID) }
    }
    return backtrack(word, best)
  }

  private func relax(
    _ node: inout (score: Double, start: Int, id: Int), _ score: Double, _ start: Int, _ id: Int
  ) {
    if node.start < 0 || score > node.score { node = (score, start, id) }
  }

  private func backtrack(_ word: Scalars, _ best: [(score: Double, start: Int, id: Int)]) -> [Scalars] {
    var pieces: [Scalars] = []
    var unknown: Scalars = []
    var end = word.count
    while end > 0 {
      let node = best[end]
      let piece = Array(word[node.start..<end])
      if node.id == unknownID {
        unknown = piece + unknown
      } else {
        if !unknown.isEmpty { pieces.append(unknown) }
        unknown = []
        pieces.append(piece)
      }
      end = node.start
    }
    if !unknown.isEmpty { pieces.append(unknown) }
    return pieces.reversed()
  }
}

/// The `vocab` of a Unigram model, read with JSONDecoder: JSONSerialization on Linux rounds
/// some doubles off by an ulp, and Viterbi ties between equal-scored paths then break
/// differently from `tokenizers`.
enum UnigramScores {
  struct Entry: Decodable {
    let token: String
    let score: Double

    init(from decoder: any Decoder) throws {
      var pair = try decoder.unkeyedContainer()
      token = try pair.decode(String.self)
      score = try pair.decode(Double.self)
    }
  }
  private struct Model: Decodable { let vocab: [Entry] }
  private struct File: Decodable { let model: Model }

  static func read(_ data: Data) throws -> [Entry] {
    do {
      return try JSONDecoder().decode(File.self, from: data).model.vocab
    } catch {
      throw TokenizationError.malformed("Unigram vocab must be [token, score] pairs (\(error))")
    }
  }
}

/// A trie over scalars answering "which tokens start here", shortest first. Edges live in one
/// table keyed by (node, scalar), so a 250k-token vocabulary costs one entry per edge rather
/// than one dictionary per node.
struct PieceTrie: Sendable {
  private var edges: [UInt64: Int32] = [:]
  private var tokenAt: [Int32] = [-1]

  init(_ tokens: [Scalars]) {
    for (id, token) in tokens.enumerated() where !token.isEmpty {
      var node = 0
      for scalar in token {
        let key = PieceTrie.key(node, scalar)
        if let child = edges[key] {
          node = Int(child)
        } else {
          tokenAt.append(-1)
          node = tokenAt.count - 1
          edges[key] = Int32(node)
        }
      }
      tokenAt[node] = Int32(id)
    }
  }

  private static func key(_ node: Int, _ scalar: Unicode.Scalar) -> UInt64 {
    UInt64(node) << 21 | UInt64(scalar.value)
  }

  /// (length, id) of every token that `word[start...]` begins with.
  func prefixes(of word: Scalars, from start: Int) -> [(Int, Int)] {
    var found: [(Int, Int)] = []
    var node = 0
    var index = start
    while index < word.count, let child = edges[PieceTrie.key(node, word[index])] {
      node = Int(child)
      index += 1
      if tokenAt[node] >= 0 { found.append((index - start, Int(tokenAt[node]))) }
    }
    return found
  }
}
