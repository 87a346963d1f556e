import Foundation
import Tokenizers

public enum TokenizerError: Error, CustomStringConvertible, Equatable {
  case missingFile(String)
  case malformedVocabulary(String)

  public var description: String {
    switch self {
    case .missingFile(let path): "tokenizer file not found: \(path)"
    case .malformedVocabulary(let problem): "malformed CLIP vocabulary: \(problem)"
    }
  }
}

/// CLIP's tokenizer, id for id identical to open_clip's `SimpleTokenizer` and `tokenize`:
/// clean the text, split it into words, byte-level BPE each word, wrap in start and end
/// tokens, truncate to the context (keeping the end token) and pad with zeros.
public struct CLIPTokenizer: Sendable {
  public static let defaultContextLength = 77
  let encoding: ByteLevelBPE
  public let startToken: Int32
  public let endToken: Int32

  /// Reads open_clip's `bpe_simple_vocab_16e6.txt.gz` (or its uncompressed text).
  public init(vocabularyFile url: URL) throws {
    let data = try Self.read(url)
    let text = String(decoding: url.pathExtension == "gz" ? try Gzip.decompress(data) : data, as: UTF8.self)
    // The first line is a version header; open_clip keeps merges 1 ..< 49152 - 256 - 2 + 1.
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.count >= 48895 else {
      throw TokenizerError.malformedVocabulary(
        "\(url.path) has \(lines.count) lines, expected 48,895 or more")
    }
    let merges = try lines[1..<48895].map { line -> (String, String) in
      let parts = line.split(separator: " ")
      guard parts.count == 2 else {
        throw TokenizerError.malformedVocabulary("bad merge line '\(line)' in \(url.path)")
      }
      return (String(parts[0]), String(parts[1]))
    }
    var symbols = ByteLevelBPE.alphabet.map(\.character)
    symbols += ByteLevelBPE.alphabet.map { $0.character + "</w>" }
    symbols += merges.map { $0.0 + $0.1 }
    symbols += PreTokenizer.specialTokens
    var vocabulary: [String: Int32] = [:]
    for (id, symbol) in symbols.enumerated() where vocabulary[symbol] == nil {
      vocabulary[symbol] = Int32(id)
    }
    try self.init(vocabulary: vocabulary, merges: merges)
  }

  /// Reads a Hugging Face `tokenizer.json` (BPE model: vocab and merges).
  public init(tokenizerJSON url: URL) throws {
    let data = try Self.read(url)
    guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let model = root["model"] as? [String: Any],
      let rawVocabulary = model["vocab"] as? [String: Int],
      let rawMerges = model["merges"] as? [Any]
    else { throw TokenizerError.malformedVocabulary("\(url.path) is not a BPE tokenizer.json") }
    let merges = try rawMerges.map { entry -> (String, String) in
      if let pair = entry as? [String], pair.count == 2 { return (pair[0], pair[1]) }
      if let line = entry as? String {
        let parts = line.split(separator: " ")
        if parts.count == 2 { return (String(parts[0]), String(parts[1])) }
      }
      throw TokenizerError.malformedVocabulary("bad merge \(entry) in \(url.path)")
    }
    var vocabulary = rawVocabulary.mapValues { Int32($0) }
    // Hugging Face names the special tokens <|startoftext|> and <|endoftext|>.
    vocabulary["<start_of_text>"] = vocabulary["<start_of_text>"] ?? vocabulary["<|startoftext|>"]
    vocabulary["<end_of_text>"] = vocabulary["<end_of_text>"] ?? vocabulary["<|endoftext|>"]
    try self.init(vocabulary: vocabulary, merges: merges)
  }

  private init(vocabulary: [String: Int32], merges: [(String, String)]) throws {
    do {
      encoding = try ByteLevelBPE(
        vocabulary: vocabulary.mapValues(Int.init), merges: merges, endOfWordSuffix: "</w>")
    } catch {
      throw TokenizerError.malformedVocabulary("\(error)")
    }
    guard let start = vocabulary["<start_of_text>"], let end = vocabulary["<end_of_text>"] else {
      throw TokenizerError.malformedVocabulary("no start/end of text tokens")
    }
    startToken = start
    endToken = end
  }

  private static func read(_ url: URL) throws -> Data {
    guard let data = try? Data(contentsOf: url) else { throw TokenizerError.missingFile(url.path) }
    return data
  }

  /// BPE ids of the text, without start and end tokens (open_clip's `encode`).
  public func encode(_ text: String) -> [Int32] {
    PreTokenizer.words(TextCleaner.clean(text)).flatMap { word -> [Int32] in
      if let special = PreTokenizer.specialTokens.firstIndex(of: word) {
        return [special == 0 ? startToken : endToken]
      }
      return encoding.encode(word: word).map(Int32.init)
    }
  }

  /// One row of the model input: start, ids, end, zeros; truncated to `contextLength` with
  /// the end token kept last (open_clip's `tokenize`).
  public func tokenize(_ text: String, contextLength: Int = defaultContextLength) -> [Int64] {
    var tokens = [startToken] + encode(text) + [endToken]
    if tokens.count > contextLength {
      tokens = Array(tokens.prefix(contextLength))
      tokens[contextLength - 1] = endToken
    }
    return tokens.map(Int64.init) + [Int64](repeating: 0, count: contextLength - tokens.count)
  }

  /// Rows for several texts, flattened as a `[count, contextLength]` int64 tensor.
  public func tokenize(_ texts: [String], contextLength: Int = defaultContextLength) -> [Int64] {
    texts.flatMap { tokenize($0, contextLength: contextLength) }
  }

  /// How many ids the text takes before truncation (start and end included).
  public func tokenCount(_ text: String) -> Int { encode(text).count + 2 }
}
