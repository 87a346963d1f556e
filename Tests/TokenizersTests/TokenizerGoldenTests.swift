import Foundation
import Testing

@testable import CLIP
@testable import Tokenizers

/// Ids of the general tokenizer.json runtime against Python `tokenizers` on the whole corpus.
@Suite struct TokenizerGoldenTests {
  @Test(arguments: Fixtures.tokenizerNames)
  func idsEqualPythonTokenizers(name: String) throws {
    let tokenizer = try Tokenizer(contentsOf: Fixtures.tokenizerFile(name))
    let expected = try #require(Fixtures.goldens.encode[name])
    #expect(expected.count == Fixtures.corpus.count)
    let actual = try Fixtures.corpus.map { try tokenizer.encode($0).ids }
    let report = mismatchReport(name, actual, expected)
    let count = zip(actual, expected).filter { $0 != $1 }.count
    #expect(report.isEmpty, "\(count) of \(expected.count) differ:\n\(report.joined(separator: "\n"))")
  }

  /// open_clip's HFTokenizer: clean mode, context length, pad id, strip_sep_token.
  @Test(arguments: Fixtures.wrapperLabels)
  func openCLIPWrapperRowsEqualReference(label: String) throws {
    let golden = try #require(Fixtures.goldens.openCLIP[label])
    let clean = try #require(HFTextTokenizer.Clean(rawValue: golden.clean))
    let tokenizer = try HFTextTokenizer(
      tokenizerJSON: Fixtures.tokenizerFile(golden.tokenizer),
      settings: .init(clean: clean, stripSepToken: golden.stripSepToken))
    #expect(tokenizer.padID == golden.padID)
    let actual = try Fixtures.corpus.map {
      try tokenizer.tokenize($0, contextLength: golden.contextLength).map(Int.init)
    }
    let expected = golden.rows.map {
      Fixtures.padded($0, to: golden.contextLength, padID: golden.padID, left: tokenizer.padsLeft)
    }
    let report = mismatchReport(label, actual, expected)
    let count = zip(actual, expected).filter { $0 != $1 }.count
    #expect(report.isEmpty, "\(count) of \(expected.count) differ:\n\(report.joined(separator: "\n"))")
  }

  /// Truncation leaves room for the post-processor's tokens; padding fills to the length.
  @Test func truncationAndPaddingOverrides() throws {
    var tokenizer = try Tokenizer(contentsOf: Fixtures.tokenizerFile("gemma-bpe"))
    let index = try #require(Fixtures.corpus.firstIndex { $0.count > 40 })
    let golden = try #require(Fixtures.goldens.encode["gemma-bpe"]?[index])
    let eos = try #require(tokenizer.tokenID("<eos>"))
    #expect(golden.last == eos)
    tokenizer.truncation = Truncation(maxLength: 5)
    tokenizer.padding = Padding(length: 8, padID: 0)
    let encoding = try tokenizer.encode(Fixtures.corpus[index])
    #expect(encoding.ids == Array(golden.prefix(4)) + [eos, 0, 0, 0])
    #expect(encoding.attentionMask == [1, 1, 1, 1, 1, 0, 0, 0])
    tokenizer.truncation = Truncation(maxLength: 5, fromLeft: true)
    tokenizer.padding = Padding(length: nil, padID: 0, multipleOf: 4, fromLeft: true)
    #expect(
      try tokenizer.encode(Fixtures.corpus[index]).ids == [0, 0, 0] + golden.dropLast().suffix(4) + [eos])
    #expect(try tokenizer.encode(Fixtures.corpus[index], addSpecialTokens: false).ids.count == 8)
  }
}

/// Components the runtime does not implement are refused by name.
@Suite struct UnsupportedComponentTests {
  static func json(replacing key: String, with value: String) throws -> Data {
    let data = try Data(contentsOf: Fixtures.tokenizerFile("bert-wordpiece"))
    var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    object[key] = try JSONSerialization.jsonObject(with: Data(value.utf8))
    return try JSONSerialization.data(withJSONObject: object)
  }

  @Test(arguments: [
    ("normalizer", #"{"type": "Nmt"}"#, "unsupported normalizer 'Nmt' in tokenizer.json"),
    (
      "normalizer", #"{"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "ByteLevel"}]}"#,
      "unsupported normalizer 'ByteLevel' in tokenizer.json"
    ),
    (
      "pre_tokenizer", #"{"type": "CharDelimiterSplit", "delimiter": "x"}"#,
      "unsupported pre-tokenizer 'CharDelimiterSplit' in tokenizer.json"
    ),
    ("post_processor", #"{"type": "Whatever"}"#, "unsupported post-processor 'Whatever' in tokenizer.json"),
    ("model", #"{"type": "WordLevel", "vocab": {}}"#, "unsupported model 'WordLevel' in tokenizer.json"),
    (
      "pre_tokenizer",
      #"{"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways", "invert": false}"#,
      "unsupported split behavior 'Sideways' in tokenizer.json"
    ),
  ])
  func unsupportedComponentIsNamed(key: String, value: String, message: String) throws {
    let data = try Self.json(replacing: key, with: value)
    let error = #expect(throws: TokenizationError.self) { try Tokenizer(data: data) }
    #expect(error?.description == message)
  }

  @Test func bpeDropoutIsRefused() throws {
    let data = try Data(contentsOf: Fixtures.tokenizerFile("gpt2-bytelevel"))
    var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    var model = try #require(object["model"] as? [String: Any])
    model["dropout"] = 0.1
    object["model"] = model
    let error = #expect(throws: TokenizationError.self) {
      try Tokenizer(data: try JSONSerialization.data(withJSONObject: object))
    }
    #expect(error?.description.contains("BPE dropout") == true)
  }
}
