import CLIP
import Foundation

/// A model published in Immich's layout on the hub (huggingface.co/immich-app), as listed by
/// Immich's machine-learning service (`app/models/constants.py`).
struct KnownModel: Codable, Sendable {
  var name: String
  var family: ModelFamily
  var embeddingSize: Int
  var languages: String

  static func named(_ name: String) -> KnownModel? { all.first { $0.name == name } }

  static let all: [KnownModel] = openAICLIP + laionCLIP + siglip + siglip2 + multilingual

  private static func table(_ family: ModelFamily, _ languages: String, _ rows: [(String, Int)])
    -> [KnownModel]
  {
    rows.map { KnownModel(name: $0.0, family: family, embeddingSize: $0.1, languages: languages) }
  }

  private static let openAICLIP = table(
    .clip, "en",
    [
      ("ViT-B-32__openai", 512), ("ViT-B-16__openai", 512), ("ViT-L-14__openai", 768),
      ("ViT-L-14-336__openai", 768), ("RN50__openai", 1024), ("RN101__openai", 512),
      ("RN50x4__openai", 640), ("RN50x16__openai", 768), ("RN50x64__openai", 1024),
    ])

  private static let laionCLIP = table(
    .clip, "en",
    [
      ("ViT-B-32__laion2b-s34b-b79k", 512), ("ViT-B-32__laion2b_e16", 512), ("ViT-B-16__laion400m_e32", 512),
      ("ViT-B-16-plus-240__laion400m_e32", 640), ("ViT-L-14__laion2b-s32b-b82k", 768),
      ("ViT-H-14__laion2b-s32b-b79k", 1024), ("ViT-L-14-quickgelu__dfn2b", 768),
      ("ViT-H-14-quickgelu__dfn5b", 1024), ("ViT-H-14-378-quickgelu__dfn5b", 1024),
    ])

  private static let siglip =
    table(
      .siglip, "en",
      [
        ("ViT-B-16-SigLIP__webli", 768), ("ViT-B-16-SigLIP-256__webli", 768),
        ("ViT-B-16-SigLIP-384__webli", 768),
        ("ViT-B-16-SigLIP-512__webli", 768), ("ViT-L-16-SigLIP-256__webli", 1024),
        ("ViT-L-16-SigLIP-384__webli", 1024), ("ViT-SO400M-14-SigLIP-384__webli", 1152),
      ]) + table(.siglip, "multilingual", [("ViT-B-16-SigLIP-i18n-256__webli", 768)])

  private static let siglip2 = table(
    .siglip2, "multilingual",
    [
      ("ViT-B-32-SigLIP2-256__webli", 768), ("ViT-B-16-SigLIP2__webli", 768),
      ("ViT-L-16-SigLIP2-256__webli", 1024), ("ViT-L-16-SigLIP2-384__webli", 1024),
      ("ViT-L-16-SigLIP2-512__webli", 1024), ("ViT-SO400M-14-SigLIP2__webli", 1152),
      ("ViT-SO400M-14-SigLIP2-378__webli", 1152), ("ViT-SO400M-16-SigLIP2-256__webli", 1152),
      ("ViT-SO400M-16-SigLIP2-384__webli", 1152), ("ViT-SO400M-16-SigLIP2-512__webli", 1152),
      ("ViT-gopt-16-SigLIP2-256__webli", 1536), ("ViT-gopt-16-SigLIP2-384__webli", 1536),
    ])

  private static let multilingual =
    table(
      .multilingual, "multilingual (200 languages, NLLB)",
      [
        ("nllb-clip-base-siglip__v1", 768), ("nllb-clip-base-siglip__mrl", 768),
        ("nllb-clip-large-siglip__v1", 1152), ("nllb-clip-large-siglip__mrl", 1152),
      ])
    + table(
      .multilingual, "multilingual (100 languages, XLM-RoBERTa)",
      [
        ("xlm-roberta-base-ViT-B-32__laion5b_s13b_b90k", 512),
        ("xlm-roberta-large-ViT-H-14__frozen_laion5b_s13b_b90k", 1024),
        ("XLM-Roberta-Large-Vit-B-16Plus", 640), ("XLM-Roberta-Large-Vit-B-32", 512),
        ("XLM-Roberta-Large-Vit-L-14", 768),
      ])
    + table(.multilingual, "multilingual (109 languages, LaBSE)", [("LABSE-Vit-L-14", 768)])
}
