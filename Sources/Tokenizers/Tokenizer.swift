import Foundation

/// A Hugging Face `tokenizer.json` (the `tokenizers` format), for encoding: added tokens split
/// out, normalizer, pre-tokenizer, model (BPE, Unigram, WordPiece), post-processor, then
/// truncation and padding, as `Tokenizer::encode` does for one sequence. The `decoder` is read
/// past (encoding only). Any component type not implemented is an error naming it.
public struct Tokenizer: Sendable {
  let normalizer: (any Normalizer)?
  let preTokenizer: (any PreTokenizer)?
  let model: any TokenModel
  let postProcessor: (any PostProcessor)?
  let addedTokens: AddedTokens
  /// From the file's `truncation`, or set by the caller.
  public var truncation: Truncation?
  /// From the file's `padding`, or set by the caller.
  public var padding: Padding?

  public init(contentsOf url: URL) throws {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw TokenizationError.unreadable(path: url.path, reason: error.localizedDescription)
    }
    try self.init(data: data)
  }

  public init(data: Data) throws {
    let parsed: Any
    do {
      parsed = try JSONSerialization.jsonObject(with: data)
    } catch {
      throw TokenizationError.malformed("not JSON (\(error.localizedDescription))")
    }
    let root = try JSONObject(parsed, context: "tokenizer")
    normalizer = try root.has("normalizer") ? Normalizers.make(try root.object("normalizer")) : nil
    preTokenizer = try root.has("pre_tokenizer") ? PreTokenizers.make(try root.object("pre_tokenizer")) : nil
    model = try Models.make(try root.object("model"), data: data)
    postProcessor =
      try root.has("post_processor") ? PostProcessors.make(try root.object("post_processor")) : nil
    let added = try (root.fields["added_tokens"] as? [Any] ?? []).enumerated().map { index, item in
      try AddedToken(try JSONObject(item, context: "tokenizer.added_tokens[\(index)]"))
    }
    addedTokens = AddedTokens(added, normalizer: normalizer)
    truncation = try root.has("truncation") ? Truncation(try root.object("truncation")) : nil
    padding = try root.has("padding") ? Padding(try root.object("padding")) : nil
  }

  /// The id of a token: added tokens first, then the model's vocabulary.
  public func tokenID(_ token: String) -> Int? {
    let scalars = Scalars(token)
    return addedTokens.ids[scalars] ?? model.id(of: scalars)
  }

  /// The ids of `text`; `addSpecialTokens` runs the post-processor.
  public func encode(_ text: String, addSpecialTokens: Bool = true) throws -> Encoding {
    var ids = try modelIDs(text)
    if let truncation {
      let room = addSpecialTokens ? (postProcessor?.addedCount ?? 0) : 0
      ids = truncation.apply(ids, maxLength: max(0, truncation.maxLength - room))
    }
    if addSpecialTokens, let postProcessor { ids = postProcessor.process(ids) }
    return padding?.apply(ids) ?? Encoding(ids: ids, attentionMask: Array(repeating: 1, count: ids.count))
  }

  /// Added tokens, then for each text segment: pre-tokenizer pieces through the model.
  func modelIDs(_ text: String) throws -> [Int] {
    var ids: [Int] = []
    for segment in addedTokens.split(Scalars(text), normalizer: normalizer) {
      switch segment {
      case .token(let id): ids.append(id)
      case .text(let piece):
        guard !piece.text.isEmpty else { continue }
        for word in preTokenizer?.split(piece) ?? [piece] where !word.text.isEmpty {
          ids += try model.tokenize(word.text)
        }
      }
    }
    return ids
  }
}

/// Ids and the attention mask (0 over padding).
public struct Encoding: Sendable, Equatable {
  public var ids: [Int]
  public var attentionMask: [Int]
}
