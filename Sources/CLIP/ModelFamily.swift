import Foundation

/// The model families `glimpse models list` and `/v1/hardware` name. How a folder's family is told from its
/// open_clip `config.json` is in `ModelFamily.init(config:)`.
public enum ModelFamily: String, Codable, CaseIterable, Sendable {
  case clip = "CLIP"
  case siglip = "SigLIP"
  case siglip2 = "SigLIP2"
  case multilingual

  /// Languages a folder of this family understands when its name is not in the table below:
  /// OpenAI/LAION CLIP and the first SigLIP were trained on English captions.
  public var defaultLanguages: String {
    switch self {
    case .clip, .siglip: "en"
    case .siglip2, .multilingual: "multilingual"
    }
  }

  /// open_clip configs name the text tower's Hugging Face model for multilingual towers
  /// (`hf_model_name`: xlm-roberta-*, facebook/nllb-*, LaBSE) and timm's vision model or the
  /// Hugging Face tokenizer for SigLIP (`timm/ViT-B-16-SigLIP2` names a SigLIP 2 tokenizer).
  public init(config: [String: Any]) {
    let text = config["text_cfg"] as? [String: Any] ?? [:]
    let vision = config["vision_cfg"] as? [String: Any] ?? [:]
    let names = [text["hf_model_name"], text["hf_tokenizer_name"], vision["timm_model_name"]]
      .compactMap { ($0 as? String)?.lowercased() }
    let multilingualTowers = ["roberta", "nllb", "labse", "bert"]
    if names.contains(where: { name in multilingualTowers.contains { name.contains($0) } }) {
      self = .multilingual
    } else if names.contains(where: { $0.contains("siglip2") }) {
      self = .siglip2
    } else if names.contains(where: { $0.contains("siglip") }) || config["init_logit_bias"] != nil {
      self = .siglip
    } else {
      self = .clip
    }
  }
}
