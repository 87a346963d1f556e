import Foundation
import Testing

@testable import CLIP

/// Token ids against open_clip's own tokenizer (scripts/make-tokenizer-goldens).
@Suite struct TokenizerTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  static let vocabulary: URL = {
    if let path = ProcessInfo.processInfo.environment["GLIMPSE_CLIP_VOCAB"] {
      return URL(fileURLWithPath: path)
    }
    return root.appendingPathComponent(".deps/bpe_simple_vocab_16e6.txt.gz")
  }()

  struct Golden: Decodable {
    var text: String
    var ids: [Int64]
  }

  static func goldens() throws -> [Golden] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/tokenizer-goldens.jsonl")
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
    return try lines.map { try JSONDecoder().decode(Golden.self, from: Data($0.utf8)) }
  }

  static func tokenizer() throws -> CLIPTokenizer {
    guard FileManager.default.fileExists(atPath: vocabulary.path) else {
      throw TokenizerError.missingFile(
        "\(vocabulary.path): run scripts/fetch-clip-vocab (make test does it)")
    }
    return try CLIPTokenizer(vocabularyFile: vocabulary)
  }

  @Test func idsEqualOpenCLIPOnEveryGoldenString() throws {
    let tokenizer = try Self.tokenizer()
    let goldens = try Self.goldens()
    #expect(goldens.count >= 1000)
    var mismatches: [String] = []
    for golden in goldens {
      let ids = tokenizer.tokenize(golden.text)
      let expected = golden.ids + [Int64](repeating: 0, count: 77 - golden.ids.count)
      if ids != expected {
        mismatches.append("\(golden.text.debugDescription): \(ids.prefix(12)) vs \(expected.prefix(12))")
      }
    }
    let count = mismatches.count
    #expect(count == 0, "\(count) mismatches, first ones:\n\(mismatches.prefix(10).joined(separator: "\n"))")
  }

  @Test func huggingFaceTokenizerJSONGivesTheSameIDs() throws {
    let json = Self.root.appendingPathComponent("models/test/clip-tiny/textual/tokenizer.json")
    let fromJSON = try CLIPTokenizer(tokenizerJSON: json)
    let fromBPE = try Self.tokenizer()
    let differing = try Self.goldens().filter { fromJSON.tokenize($0.text) != fromBPE.tokenize($0.text) }
    let count = differing.count
    #expect(count == 0, "first: \(differing.first?.text ?? "")")
  }

  @Test func truncationKeepsTheEndToken() throws {
    let tokenizer = try Self.tokenizer()
    let ids = tokenizer.tokenize(String(repeating: "word ", count: 200))
    #expect(ids.count == 77)
    #expect(ids.first == 49406)
    #expect(ids.last == 49407)
    #expect(tokenizer.tokenize("") == [49406, 49407] + [Int64](repeating: 0, count: 75))
  }

  @Test func malformedVocabularyIsAnError() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).txt.gz")
    try Data("not gzip at all".utf8).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    #expect(throws: TokenizerError.self) { try CLIPTokenizer(vocabularyFile: url) }
    #expect(throws: TokenizerError.self) {
      try CLIPTokenizer(vocabularyFile: URL(fileURLWithPath: "/nonexistent/vocab.txt.gz"))
    }
    #expect(throws: TokenizerError.self) { try CLIPTokenizer(tokenizerJSON: url) }
  }
}
