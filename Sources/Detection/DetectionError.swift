import Imaging

/// Errors of the Detection module, each with a message meant for the user.
public enum DetectionError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The ONNX file is not an Ultralytics detection export (wrong input, output or metadata).
  case unexpectedModel(String)
  /// The image cannot be detected on (too small, degenerate); HTTP 400.
  case invalidImage(String)
  /// The bytes are not an image Glimpse can decode; `kind` says which HTTP status fits.
  case undecodableImage(ImagingError)
  /// A request the detector cannot serve (empty batch, bad thresholds, …); HTTP 400.
  case invalidRequest(String)

  public var description: String {
    switch self {
    case .unexpectedModel(let problem): "not a YOLO detection model: \(problem)"
    case .invalidImage(let problem): problem
    case .undecodableImage(let error): "cannot decode the image: \(error.message)"
    case .invalidRequest(let problem): problem
    }
  }
}
