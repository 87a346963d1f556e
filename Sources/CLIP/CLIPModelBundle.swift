import Foundation
import Hardware

/// A CLIP model folder in Immich's layout, resolved to the files of one precision:
///
///     config.json                 open_clip model config (embed_dim, vision_cfg, text_cfg)
///     visual/model.onnx           image tower (model.fp16.onnx beside it for FP16)
///     visual/preprocess_cfg.json  optional preprocessing settings
///     textual/model.onnx          text tower (model.fp16.onnx beside it for FP16)
///     textual/tokenizer.json      Hugging Face tokenizer, and/or
///     textual/bpe_simple_vocab_16e6.txt.gz  open_clip's BPE vocabulary
public struct CLIPModelBundle: Sendable {
  public enum VocabularySource: Sendable, Equatable {
    case openCLIP(URL)
    case huggingFace(URL)
    /// tokenizer.json run by the general runtime behind open_clip's HFTokenizer wrapper.
    case huggingFaceWrapped(URL, HFTextTokenizer.Settings)
  }

  public let folder: URL
  /// The folder's name, e.g. `ViT-B-32__openai`: how embeddings record their model.
  public let name: String
  public let precision: Precision
  public let configuration: CLIPConfiguration
  public let visualModel: URL
  public let textualModel: URL
  public let vocabulary: VocabularySource

  public init(folder: URL, precision: Precision = .fp32) throws {
    self.folder = folder.standardizedFileURL
    self.name = folder.standardizedFileURL.lastPathComponent
    self.precision = precision
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory),
      isDirectory.boolValue
    else { throw CLIPError.modelFolder(folder.path, "no such folder") }
    self.configuration = try CLIPConfiguration.load(folder: folder)
    self.visualModel = try Self.modelFile(folder, tower: "visual", precision: precision)
    self.textualModel = try Self.modelFile(folder, tower: "textual", precision: precision)
    self.vocabulary = try Self.vocabularyFile(folder, configuration: configuration)
  }

  static func modelFile(_ folder: URL, tower: String, precision: Precision) throws -> URL {
    let fileName =
      switch precision {
      case .fp32: "model.onnx"
      case .fp16: "model.fp16.onnx"
      case .int8: "model.int8.onnx"
      }
    let url = folder.appendingPathComponent(tower).appendingPathComponent(fileName)
    guard FileManager.default.fileExists(atPath: url.path) else {
      let hint =
        switch precision {
        case .fp32: ""
        case .fp16: " (make FP16 files with scripts/export-clip --fp16)"
        case .int8: " (make INT8 files with scripts/quantize-clip \(folder.path))"
        }
      throw CLIPError.modelFolder(folder.path, "missing \(tower)/\(fileName)\(hint)")
    }
    return url
  }

  /// What open_clip would use: its HFTokenizer over textual/tokenizer.json when config.json
  /// names a Hugging Face tokenizer; otherwise its own CLIP vocabulary, which wins over
  /// tokenizer.json (open_clip cleans and pads CLIP's input its own way).
  static func vocabularyFile(_ folder: URL, configuration: CLIPConfiguration) throws -> VocabularySource {
    let json = folder.appendingPathComponent("textual/tokenizer.json")
    if let settings = configuration.huggingFaceTokenizer {
      guard FileManager.default.fileExists(atPath: json.path) else {
        throw CLIPError.modelFolder(
          folder.path, "config.json names a Hugging Face tokenizer but textual/tokenizer.json is missing")
      }
      return .huggingFaceWrapped(json, settings)
    }
    let candidates = [
      folder.appendingPathComponent("textual/bpe_simple_vocab_16e6.txt.gz"),
      folder.appendingPathComponent("bpe_simple_vocab_16e6.txt.gz"),
    ]
    if let bpe = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
      return .openCLIP(bpe)
    }
    if FileManager.default.fileExists(atPath: json.path) { return .huggingFace(json) }
    throw CLIPError.modelFolder(
      folder.path, "no tokenizer: expected textual/tokenizer.json or textual/bpe_simple_vocab_16e6.txt.gz")
  }
}
