/// BERT's WordPiece: greedy longest match from the left, later pieces carry `##`; a word
/// with an unmatched remainder, or longer than `max_input_chars_per_word`, is one unknown.
struct WordPiece: TokenModel {
  let vocabulary: Vocabulary
  let unknown: Scalars
  let prefix: Scalars
  let maxCharacters: Int

  init(_ json: JSONObject) throws {
    vocabulary = try Vocabulary(json: json)
    unknown = Scalars(json.optionalString("unk_token") ?? "[UNK]")
    prefix = Scalars(json.optionalString("continuing_subword_prefix") ?? "##")
    maxCharacters = json.optionalInt("max_input_chars_per_word") ?? 100
  }

  func id(of token: Scalars) -> Int? { vocabulary[token] }

  func tokenize(_ word: Scalars) throws -> [Int] {
    if word.count > maxCharacters { return [try unknownID()] }
    var ids: [Int] = []
    var start = 0
    while start < word.count {
      guard let (id, end) = longestMatch(word, from: start) else { return [try unknownID()] }
      ids.append(id)
      start = end
    }
    return ids
  }

  private func longestMatch(_ word: Scalars, from start: Int) -> (Int, Int)? {
    var end = word.count
    while start < end {
      let piece = Array(word[start..<end])
      if let id = vocabulary[start > 0 ? prefix + piece : piece] { return (id, end) }
      end -= 1
    }
    return nil
  }

  private func unknownID() throws -> Int {
    guard let id = vocabulary[unknown] else { throw TokenizationError.missingToken(unknown.string) }
    return id
  }
}
