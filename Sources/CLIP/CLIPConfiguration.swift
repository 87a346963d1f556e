import Foundation
import Imaging

/// What a CLIP model folder says about itself: `config.json` (open_clip's model config) and
/// `visual/preprocess_cfg.json` (Immich's preprocessing settings).
public struct CLIPConfiguration: Sendable, Equatable {
  public var embeddingDimension: Int
  public var contextLength: Int
  public var preprocessing: CLIPPreprocessing
  /// CLIP's learned temperature, as the multiplier of cosine similarities (100 for OpenAI's):
  /// `logit_scale` in config.json (written by scripts/export-clip, already exponentiated).
  public var logitScale: Float?
  /// SigLIP's learned bias (`logit_bias`, written by scripts/export-clip); nil for CLIP.
  public var logitBias: Float?
  /// The config's initial values, what a folder without the learned ones falls back to:
  /// `init_logit_scale` (a logarithm, as open_clip takes it) and `init_logit_bias`.
  public var initialLogitScale: Float?
  public var initialLogitBias: Float?
  /// The Hugging Face text model of an `hf_model_name` text tower (e.g. `xlm-roberta-base`).
  public var textModelName: String?
  /// CLIP, SigLIP, SigLIP2 or multilingual, told from config.json's names.
  public var family: ModelFamily
  /// open_clip's HFTokenizer settings when `text_cfg.hf_tokenizer_name` is set (SigLIP 2,
  /// XLM-R, NLLB towers); nil for open_clip's own CLIP tokenizer.
  public var huggingFaceTokenizer: HFTextTokenizer.Settings?

  /// Reads the configuration of a model folder; missing preprocessing falls back to
  /// open_clip's defaults for the image size in `config.json`.
  public static func load(folder: URL) throws -> CLIPConfiguration {
    let configURL = folder.appendingPathComponent("config.json")
    guard let data = try? Data(contentsOf: configURL) else {
      throw CLIPError.modelFolder(folder.path, "no config.json")
    }
    let config: OpenCLIPConfig
    do {
      config = try JSONDecoder().decode(OpenCLIPConfig.self, from: data)
    } catch {
      throw CLIPError.modelFolder(folder.path, "config.json is not an open_clip config: \(error)")
    }
    let imageSize = config.visionCfg.imageSize.value
    var preprocessing = CLIPPreprocessing.openCLIPDefaults(size: imageSize)
    let preprocessURL = folder.appendingPathComponent("visual/preprocess_cfg.json")
    if let preprocessData = try? Data(contentsOf: preprocessURL) {
      do {
        try preprocessing.apply(preprocessCfg: preprocessData)
      } catch let problem as PreprocessProblem {
        throw CLIPError.modelFolder(folder.path, "visual/preprocess_cfg.json: \(problem)")
      } catch {
        throw CLIPError.modelFolder(folder.path, "visual/preprocess_cfg.json is malformed: \(error)")
      }
    }
    return CLIPConfiguration(
      embeddingDimension: config.embedDim,
      contextLength: config.textCfg?.contextLength ?? 77,
      preprocessing: preprocessing,
      logitScale: config.logitScale, logitBias: config.logitBias,
      initialLogitScale: config.initLogitScale.map { exp($0) }, initialLogitBias: config.initLogitBias,
      textModelName: config.textCfg?.hfModelName,
      family: ModelFamily(config: (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]),
      huggingFaceTokenizer: config.textCfg?.huggingFaceSettings)
  }
}

/// Image preprocessing settings, as open_clip's `PreprocessCfg`.
public struct CLIPPreprocessing: Sendable, Equatable {
  /// open_clip's interpolations; `random` (a training option) is bicubic at inference, as in
  /// open_clip's `image_transform`.
  public enum Interpolation: String, Sendable, CaseIterable { case bicubic, bilinear, random }

  /// Model input height and width.
  public var size: (height: Int, width: Int)
  public var mean: [Float]
  public var std: [Float]
  public var interpolation: Interpolation
  public var resizeMode: ImageTransform.ResizeMode
  /// The gray level `longest` pads with.
  public var fillColor: UInt8

  /// OpenAI's CLIP normalization, the default of every open_clip model but a few.
  public static func openCLIPDefaults(size: (Int, Int)) -> CLIPPreprocessing {
    CLIPPreprocessing(
      size: size, mean: [0.48145466, 0.4578275, 0.40821073],
      std: [0.26862954, 0.26130258, 0.27577711], interpolation: .bicubic, resizeMode: .shortest,
      fillColor: 0)
  }

  /// The transform these settings describe.
  public var transform: ImageTransform {
    ImageTransform(
      height: size.height, width: size.width, mean: mean, std: std,
      filter: interpolation == .bilinear ? .bilinear : .bicubic, resizeMode: resizeMode,
      fillColor: fillColor)
  }

  /// Applies the contents of a `preprocess_cfg.json`; an unknown mode or interpolation is an
  /// error naming it, never a silent fallback.
  public mutating func apply(preprocessCfg data: Data) throws {
    try apply(JSONDecoder().decode(PreprocessConfig.self, from: data))
  }

  mutating func apply(_ overrides: PreprocessConfig) throws {
    if let size = overrides.size { self.size = size.value }
    if let mean = overrides.mean { self.mean = mean }
    if let std = overrides.std { self.std = std }
    if let name = overrides.interpolation {
      guard let interpolation = Interpolation(rawValue: name) else {
        throw PreprocessProblem.unknown("interpolation", name, Interpolation.allCases.map(\.rawValue))
      }
      self.interpolation = interpolation
    }
    if let name = overrides.resizeMode {
      guard let resizeMode = ImageTransform.ResizeMode(rawValue: name) else {
        throw PreprocessProblem.unknown(
          "resize_mode", name, ImageTransform.ResizeMode.allCases.map(\.rawValue))
      }
      self.resizeMode = resizeMode
    }
    if let fill = overrides.fillColor {
      guard let level = UInt8(exactly: fill) else { throw PreprocessProblem.fillColor(fill) }
      fillColor = level
    }
  }

  public static func == (a: CLIPPreprocessing, b: CLIPPreprocessing) -> Bool {
    a.size == b.size && a.mean == b.mean && a.std == b.std && a.interpolation == b.interpolation
      && a.resizeMode == b.resizeMode && a.fillColor == b.fillColor
  }
}

/// What is wrong with a `preprocess_cfg.json` value.
enum PreprocessProblem: Error, CustomStringConvertible {
  case unknown(String, String, [String])
  case fillColor(Int)

  var description: String {
    switch self {
    case .unknown(let key, let value, let known):
      "unknown \(key) '\(value)' (open_clip has \(known.joined(separator: ", ")))"
    case .fillColor(let value): "fill_color \(value) is not a gray level 0...255"
    }
  }
}

/// An image size given as `224` or `[224, 224]` (height, width).
struct ImageSize: Decodable {
  let value: (Int, Int)

  init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let side = try? container.decode(Int.self) {
      value = (side, side)
    } else {
      let pair = try container.decode([Int].self)
      guard pair.count == 2 else {
        throw DecodingError.dataCorruptedError(
          in: container, debugDescription: "image size must be N or [H, W]")
      }
      value = (pair[0], pair[1])
    }
  }
}

/// The parts of open_clip's model config Glimpse reads.
struct OpenCLIPConfig: Decodable {
  struct Vision: Decodable {
    var imageSize: ImageSize
    enum CodingKeys: String, CodingKey { case imageSize = "image_size" }
  }
  struct Text: Decodable {
    var contextLength: Int?
    var hfModelName: String?
    var hfTokenizerName: String?
    var tokenizerKwargs: TokenizerKwargs?
    enum CodingKeys: String, CodingKey {
      case contextLength = "context_length"
      case hfModelName = "hf_model_name"
      case hfTokenizerName = "hf_tokenizer_name"
      case tokenizerKwargs = "tokenizer_kwargs"
    }

    var huggingFaceSettings: HFTextTokenizer.Settings? {
      guard hfTokenizerName != nil else { return nil }
      return HFTextTokenizer.Settings(
        clean: tokenizerKwargs?.clean ?? .whitespace, stripSepToken: tokenizerKwargs?.stripSepToken ?? false)
    }
  }
  /// HFTokenizer's keyword arguments; an unknown `clean` mode fails decoding.
  struct TokenizerKwargs: Decodable {
    var clean: HFTextTokenizer.Clean?
    var stripSepToken: Bool?
    enum CodingKeys: String, CodingKey {
      case clean
      case stripSepToken = "strip_sep_token"
    }
  }
  var embedDim: Int
  var visionCfg: Vision
  var textCfg: Text?
  var logitScale: Float?
  var logitBias: Float?
  var initLogitScale: Float?
  var initLogitBias: Float?

  enum CodingKeys: String, CodingKey {
    case embedDim = "embed_dim"
    case visionCfg = "vision_cfg"
    case textCfg = "text_cfg"
    case logitScale = "logit_scale"
    case logitBias = "logit_bias"
    case initLogitScale = "init_logit_scale"
    case initLogitBias = "init_logit_bias"
  }
}

/// Immich's `preprocess_cfg.json`.
struct PreprocessConfig: Decodable {
  var size: ImageSize?
  var mean: [Float]?
  var std: [Float]?
  var interpolation: String?
  var resizeMode: String?
  var fillColor: Int?

  enum CodingKeys: String, CodingKey {
    case size, mean, std, interpolation
    case resizeMode = "resize_mode"
    case fillColor = "fill_color"
  }
}
