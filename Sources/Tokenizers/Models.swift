import Foundation

/// The `model` of tokenizer.json: turns one pre-tokenized piece into ids.
protocol TokenModel: Sendable {
  func tokenize(_ word: Scalars) throws -> [Int]
  /// The id of a token of the model's vocabulary.
  func id(of token: Scalars) -> Int?
}

enum Models {
  /// `data` is the whole file: Unigram re-reads its scores from it (see `UnigramScores`).
  static func make(_ json: JSONObject, data: Data) throws -> any TokenModel {
    // Old WordPiece and BPE files may omit `type`; the fields tell them apart.
    let type =
      json.optionalString("type")
      ?? (json.has("merges") ? "BPE" : json.has("max_input_chars_per_word") ? "WordPiece" : "Unigram")
    switch type {
    case "BPE": return try BPE(json)
    case "Unigram": return try Unigram(json, scores: try UnigramScores.read(data))
    case "WordPiece": return try WordPiece(json)
    default: throw TokenizationError.unsupported(component: "model", type: type)
    }
  }
}
