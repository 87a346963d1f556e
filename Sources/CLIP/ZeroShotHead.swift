import Foundation

/// How a model turns image-text cosines into zero-shot probabilities: the head it was trained
/// with, so that its probabilities mean what open_clip's do.
public enum ZeroShotHead: Sendable, Equatable {
  /// CLIP (contrastive softmax loss): softmax over `scale · cos` across the labels.
  case softmax(scale: Float)
  /// SigLIP (sigmoid loss): each label on its own, `sigmoid(scale · cos + bias)`.
  case sigmoid(scale: Float, bias: Float)

  /// The head a folder describes. The learned values come from config.json (`logit_scale`,
  /// `logit_bias`, written by scripts/export-clip), else from the visual tower's ONNX metadata
  /// (same keys), else from the config's initial values (`init_logit_scale` is a logarithm,
  /// `init_logit_bias`), else OpenAI CLIP's 100. A bias anywhere makes it SigLIP's head.
  public static func resolve(_ configuration: CLIPConfiguration, metadata: [String: String]) -> ZeroShotHead {
    let bias =
      configuration.logitBias ?? metadata["logit_bias"].flatMap(Float.init) ?? configuration.initialLogitBias
    let scale =
      configuration.logitScale ?? metadata["logit_scale"].flatMap(Float.init)
      ?? configuration.initialLogitScale
    guard let bias else { return .softmax(scale: scale ?? 100) }
    // open_clip's SigLIP training starts the scale at log(10) (training/main.py --siglip).
    return .sigmoid(scale: scale ?? 10, bias: bias)
  }

  public var scale: Float {
    switch self {
    case .softmax(let scale), .sigmoid(let scale, _): scale
    }
  }

  public var bias: Float? {
    if case .sigmoid(_, let bias) = self { return bias }
    return nil
  }

  /// Probabilities for cosines of one image against each label.
  public func probabilities(_ cosines: [Float]) -> [Float] {
    switch self {
    case .softmax(let scale):
      let logits = cosines.map { scale * $0 }
      let maximum = logits.max() ?? 0
      let exponentials = logits.map { exp($0 - maximum) }
      let total = exponentials.reduce(0, +)
      return exponentials.map { $0 / total }
    case .sigmoid(let scale, let bias):
      return cosines.map { 1 / (1 + exp(-(scale * $0 + bias))) }
    }
  }
}
