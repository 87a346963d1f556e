import Foundation

/// What a CLIP model folder says about itself: `config.json` (open_clip's model config) and
/// `visual/preprocess_cfg.json` (Immich's preprocessing settings).
public struct CLIPConfiguration: Sendable, Equatable {
  public var embeddingDimension: Int
  public var contextLength: Int
  public var preprocessing: CLIPPreprocessing
  /// CLIP's learned temperature, as the multiplier of cosine similarities (100 for OpenAI's).
  public var logitScale: Float?
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
        let overrides = try JSONDecoder().decode(PreprocessConfig.self, from: preprocessData)
        preprocessing.apply(overrides)
      } catch {
        throw CLIPError.modelFolder(folder.path, "visual/preprocess_cfg.json is malformed: \(error)")
      }
    }
    return CLIPConfiguration(
      embeddingDimension: config.embedDim,
      contextLength: config.textCfg?.contextLength ?? 77,
      preprocessing: preprocessing,
      logitScale: config.logitScale,
      huggingFaceTokenizer: config.textCfg?.huggingFaceSettings)
  }
}

/// Image preprocessing settings, as open_clip's `PreprocessCfg`.
public struct CLIPPreprocessing: Sendable, Equatable {
  public enum ResizeMode: String, Sendable, Codable { case shortest, longest, squash }
  public enum Interpolation: String, Sendable, Codable { case bicubic, bilinear }

  /// Model input height and width.
  public var size: (height: Int, width: Int)
  public var mean: [Float]
  public var std: [Float]
  public var interpolation: Interpolation
  public var resizeMode: ResizeMode

  /// OpenAI's CLIP normalization, the default of every open_clip model but a few.
  public static func openCLIPDefaults(size: (Int, Int)) -> CLIPPreprocessing {
    CLIPPreprocessing(
      size: size, mean: [0.48145466, 0.4578275, 0.40821073],
      std: [0.26862954, 0.26130258, 0.27577711], interpolation: .bicubic, resizeMode: .shortest)
  }

  mutating func apply(_ overrides: PreprocessConfig) {
    if let size = overrides.size { self.size = size.value }
    if let mean = overrides.mean { self.mean = mean }
    if let std = overrides.std { self.std = std }
    if let interpolation = overrides.interpolation { self.interpolation = interpolation }
    if let resizeMode = overrides.resizeMode { self.resizeMode = resizeMode }
  }

  public static func == (a: CLIPPreprocessing, b: CLIPPreprocessing) -> Bool {
    a.size == b.size && a.mean == b.mean && a.std == b.std && a.interpolation == b.interpolation
      && a.resizeMode == b.resizeMode
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
    var hfTokenizerName: String?
    var tokenizerKwargs: TokenizerKwargs?
    enum CodingKeys: String, CodingKey {
      case contextLength = "context_length"
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

  enum CodingKeys: String, CodingKey {
    case embedDim = "embed_dim"
    case visionCfg = "vision_cfg"
    case textCfg = "text_cfg"
    case logitScale = "logit_scale"
  }
}

/// Immich's `preprocess_cfg.json`.
struct PreprocessConfig: Decodable {
  var size: ImageSize?
  var mean: [Float]?
  var std: [Float]?
  var interpolation: CLIPPreprocessing.Interpolation?
  var resizeMode: CLIPPreprocessing.ResizeMode?

  enum CodingKeys: String, CodingKey {
    case size, mean, std, interpolation
    case resizeMode = "resize_mode"
  }
}
