import Foundation

@testable import CLIP

/// The committed fixtures of scripts/make-tokenizers: the corpus, the trained tokenizers and
/// the ids Python `tokenizers` (and open_clip's HFTokenizer settings) gave for them.
enum Fixtures {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "Fixtures")

  static let tokenizerNames = [
    "gemma-bpe", "xlmr-unigram", "unigram-bytes", "bert-wordpiece", "gpt2-bytelevel", "clip-bpe",
    "special-template", "components-bpe", "gpt2-prefix-template", "unigram-never",
    "unigram-strip-first",
  ]

  /// open_clip HFTokenizer settings checked (scripts/make-tokenizers WRAPPERS).
  static let wrapperLabels = [
    "siglip2", "xlmr", "bert-strip-sep", "unigram-bytes-canonicalize", "unigram-never-lower",
    "unigram-strip-first-whitespace", "gpt2-whitespace", "gpt2-prefix-template-lower", "clip-bpe-lower",
    "special-template-canonicalize-strip-sep", "components-bpe-whitespace",
  ]

  struct Wrapper: Decodable {
    let tokenizer: String
    let clean: String
    let contextLength: Int
    let stripSepToken: Bool
    let padID: Int
    let rows: [[Int]]
    enum CodingKeys: String, CodingKey {
      case tokenizer, clean, rows
      case contextLength = "context_length"
      case stripSepToken = "strip_sep_token"
      case padID = "pad_id"
    }
  }

  struct Goldens: Decodable {
    let encode: [String: [[Int]]]
    let openCLIP: [String: Wrapper]
    enum CodingKeys: String, CodingKey {
      case encode
      case openCLIP = "open_clip"
    }
  }

  static let corpus: [String] = load("corpus.json")

  /// A golden row (stored without its padding) padded to `length` on the side the tokenizer
  /// pads: the goldens' content does not depend on the side, only where the pad ids go.
  static func padded(_ row: [Int], to length: Int, padID: Int, left: Bool) -> [Int] {
    let filler = Array(repeating: padID, count: length - row.count)
    return left ? filler + row : row + filler
  }
  static let goldens: Goldens = load("goldens.json.gz")

  static func tokenizerFile(_ name: String) -> URL {
    folder.appendingPathComponent(name).appendingPathComponent("tokenizer.json")
  }

  private static func load<T: Decodable>(_ name: String) -> T {
    do {
      let data = try Data(contentsOf: folder.appendingPathComponent(name))
      // The goldens are stored gzipped (6.5 MB of JSON, 1.4 MB compressed).
      return try JSONDecoder().decode(T.self, from: name.hasSuffix(".gz") ? Gzip.decompress(data) : data)
    } catch {
      fatalError("fixture \(name) unreadable (run scripts/make-tokenizers): \(error)")
    }
  }
}

/// Describes the first few corpus strings whose ids differ, for a readable failure.
func mismatchReport(_ name: String, _ actual: [[Int]], _ expected: [[Int]]) -> [String] {
  zip(Fixtures.corpus.indices, zip(actual, expected)).filter { $0.1.0 != $0.1.1 }.prefix(5).map {
    index, pair in
    let text = Fixtures.corpus[index].unicodeScalars.prefix(80).map { $0.escaped(asASCII: true) }.joined()
    return "\(name) #\(index) \"\(text)\": got \(pair.0.prefix(40)) expected \(pair.1.prefix(40))"
  }
}
