import Foundation
import Testing

@testable import CLIP
@testable import Tokenizers

/// A model folder whose config.json names a Hugging Face tokenizer gets open_clip's
/// HFTokenizer over textual/tokenizer.json, with the folder's settings.
@Suite struct ModelFolderTokenizerTests {
  static func folder(textConfig: String, tokenizer: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "glimpse-tok-\(UUID().uuidString)")
    let textual = folder.appendingPathComponent("textual")
    try FileManager.default.createDirectory(at: textual, withIntermediateDirectories: true)
    let config = #"{"embed_dim": 8, "vision_cfg": {"image_size": 224}, "text_cfg": \#(textConfig)}"#
    try Data(config.utf8).write(to: folder.appendingPathComponent("config.json"))
    for file in ["tokenizer.json", "tokenizer_config.json"] {
      let source = Fixtures.folder.appendingPathComponent(tokenizer).appendingPathComponent(file)
      try FileManager.default.copyItem(at: source, to: textual.appendingPathComponent(file))
    }
    return folder
  }

  @Test func siglipFolderUsesTheWrapperWithItsSettings() throws {
    let folder = try Self.folder(
      textConfig:
        #"{"context_length": 64, "hf_tokenizer_name": "timm/ViT-B-16-SigLIP2", "tokenizer_kwargs": {"clean": "canonicalize"}}"#,
      tokenizer: "gemma-bpe")
    defer { try? FileManager.default.removeItem(at: folder) }
    let configuration = try CLIPConfiguration.load(folder: folder)
    #expect(configuration.contextLength == 64)
    let source = try CLIPModelBundle.vocabularyFile(folder, configuration: configuration)
    guard case .huggingFaceWrapped(_, let settings) = source else {
      Issue.record("expected the Hugging Face wrapper, got \(source)")
      return
    }
    #expect(settings == HFTextTokenizer.Settings(clean: .canonicalize))
    let wrapper = try HFTextTokenizer(
      tokenizerJSON: folder.appendingPathComponent("textual/tokenizer.json"), settings: settings)
    // tokenizer_config.json names GemmaTokenizer, whose transformers class pads on the left.
    #expect(wrapper.padsLeft)
    let golden = try #require(Fixtures.goldens.openCLIP["siglip2"])
    let texts = Array(Fixtures.corpus.prefix(40))
    let expected = golden.rows.prefix(40).flatMap {
      Fixtures.padded($0, to: 64, padID: golden.padID, left: true)
    }
    #expect(
      try TextTokenizer.huggingFace(wrapper).tokenize(texts, contextLength: 64) == expected.map(Int64.init))
  }

  @Test func xlmrFolderDefaultsToWhitespaceClean() throws {
    let folder = try Self.folder(
      textConfig: #"{"hf_tokenizer_name": "xlm-roberta-large"}"#, tokenizer: "xlmr-unigram")
    defer { try? FileManager.default.removeItem(at: folder) }
    let configuration = try CLIPConfiguration.load(folder: folder)
    let source = try CLIPModelBundle.vocabularyFile(folder, configuration: configuration)
    guard case .huggingFaceWrapped(_, let settings) = source else {
      Issue.record("expected the Hugging Face wrapper, got \(source)")
      return
    }
    #expect(settings == HFTextTokenizer.Settings(clean: .whitespace, stripSepToken: false))
  }

  /// open_clip's `strip_sep_token` writes 0 over separators (`torch.zeros_like`), not the pad
  /// id: with a pad id of 1, as XLM-R has, the two differ.
  @Test func strippedSeparatorsBecomeZeroWhateverThePadID() throws {
    let tokenizer = try Tokenizer(
      contentsOf: Fixtures.folder.appendingPathComponent("bert-wordpiece/tokenizer.json"))
    let sep = try #require(tokenizer.tokenID("[SEP]"))
    let stripping = try HFTextTokenizer(
      tokenizer: tokenizer, settings: .init(stripSepToken: true), padID: 1, sepID: sep)
    let kept = try HFTextTokenizer(tokenizer: tokenizer, settings: .init(), padID: 1, sepID: sep)
    let plain = try kept.tokenize("a photo of a dog", contextLength: 16)
    let stripped = try stripping.tokenize("a photo of a dog", contextLength: 16)
    #expect(plain.contains(Int64(sep)))
    #expect(stripped == plain.map { $0 == Int64(sep) ? 0 : $0 })
    #expect(stripped.last == 1, "padding keeps the pad id")
  }

  @Test func unknownCleanModeIsAnError() throws {
    let folder = try Self.folder(
      textConfig: #"{"hf_tokenizer_name": "x", "tokenizer_kwargs": {"clean": "sparkle"}}"#,
      tokenizer: "gemma-bpe")
    defer { try? FileManager.default.removeItem(at: folder) }
    #expect(throws: CLIPError.self) { try CLIPConfiguration.load(folder: folder) }
  }

  @Test func missingPadTokenIsAnError() throws {
    let folder = try Self.folder(textConfig: #"{"hf_tokenizer_name": "x"}"#, tokenizer: "gemma-bpe")
    defer { try? FileManager.default.removeItem(at: folder) }
    let config = folder.appendingPathComponent("textual/tokenizer_config.json")
    try Data("{}".utf8).write(to: config)
    #expect(throws: CLIPError.self) {
      try HFTextTokenizer(
        tokenizerJSON: folder.appendingPathComponent("textual/tokenizer.json"), settings: .init())
    }
  }
}
