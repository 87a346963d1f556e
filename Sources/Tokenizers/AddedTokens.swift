/// One entry of `added_tokens`.
struct AddedToken: Sendable {
  let id: Int
  let content: Scalars
  let singleWord: Bool
  let leftStrip: Bool
  let rightStrip: Bool
  let normalized: Bool
  let special: Bool

  init(_ json: JSONObject) throws {
    id = try json.int("id")
    content = Scalars(try json.string("content"))
    singleWord = json.bool("single_word", default: false)
    leftStrip = json.bool("lstrip", default: false)
    rightStrip = json.bool("rstrip", default: false)
    special = json.bool("special", default: false)
    normalized = json.bool("normalized", default: !special)
  }
}

/// A segment of the input after added tokens are split out: a token's id, or text for the
/// normalizer, pre-tokenizer and model.
enum Segment: Equatable {
  case token(Int)
  case text(Piece)
}

/// `AddedVocabulary::extract_and_normalize`: tokens with `normalized: false` are matched in the
/// raw text, the rest is normalized, then tokens with `normalized: true` are matched in the
/// normalized text (against their own normalized form). Matching is leftmost-longest.
struct AddedTokens: Sendable {
  private let tokens: [AddedToken]
  private let raw: PieceTrie
  private let normalizedForms: PieceTrie
  let ids: [Scalars: Int]

  init(_ tokens: [AddedToken], normalizer: (any Normalizer)?) {
    self.tokens = tokens
    raw = PieceTrie(tokens.map { $0.normalized ? [] : $0.content })
    normalizedForms = PieceTrie(
      tokens.map { token in
        guard token.normalized else { return [] }
        return normalizer?.normalize(token.content) ?? token.content
      })
    ids = Dictionary(tokens.map { ($0.content, $0.id) }, uniquingKeysWith: { _, last in last })
  }

  func split(_ text: Scalars, normalizer: (any Normalizer)?) -> [Segment] {
    split(Piece(text: text, atStart: true), trie: raw).flatMap { segment -> [Segment] in
      guard case .text(let piece) = segment else { return [segment] }
      let normalized = normalizer?.normalizeTrackingStart(piece.text) ?? (text: piece.text, shifted: false)
      return split(
        Piece(text: normalized.text, atStart: piece.atStart && !normalized.shifted), trie: normalizedForms)
    }
  }

  private func split(_ piece: Piece, trie: PieceTrie) -> [Segment] {
    let text = piece.text
    var segments: [Segment] = []
    var consumed = 0
    var cursor = 0
    while let (start, end, index) = nextMatch(text, from: cursor, trie: trie) {
      cursor = end
      let token = tokens[index]
      if token.singleWord && !isWholeWord(text, start, end) { continue }
      let from = token.leftStrip ? max(consumed, whitespaceStart(text, before: start)) : start
      let to = token.rightStrip ? whitespaceEnd(text, after: end) : end
      if consumed < from {
        segments.append(
          .text(Piece(text: Array(text[consumed..<from]), atStart: piece.atStart && consumed == 0)))
      }
      segments.append(.token(token.id))
      consumed = to
      cursor = max(cursor, to)
    }
    if consumed < text.count || text.isEmpty {
      segments.append(.text(Piece(text: Array(text[consumed...]), atStart: piece.atStart && consumed == 0)))
    }
    return segments
  }

  /// The leftmost match at or after `cursor`, the longest among those starting there.
  private func nextMatch(_ text: Scalars, from cursor: Int, trie: PieceTrie) -> (Int, Int, Int)? {
    var start = cursor
    while start < text.count {
      if let (length, index) = trie.prefixes(of: text, from: start).last {
        return (start, start + length, index)
      }
      start += 1
    }
    return nil
  }

  private func isWholeWord(_ text: Scalars, _ start: Int, _ end: Int) -> Bool {
    let before = start == 0 || !CharacterClass.isWord(text[start - 1])
    let after = end == text.count || !CharacterClass.isWord(text[end])
    return before && after
  }

  private func whitespaceStart(_ text: Scalars, before index: Int) -> Int {
    var start = index
    while start > 0, CharacterClass.isWhitespace(text[start - 1]) { start -= 1 }
    return start
  }

  private func whitespaceEnd(_ text: Scalars, after index: Int) -> Int {
    var end = index
    while end < text.count, CharacterClass.isWhitespace(text[end]) { end += 1 }
    return end
  }
}
