/// Errors of the CLIP module, each with a message meant for the user.
public enum CLIPError: Error, CustomStringConvertible, Equatable {
  /// The model folder is missing a file or holds a malformed one.
  case modelFolder(String, String)
  /// The model's input or output is not what a CLIP tower looks like.
  case unexpectedModel(String)
  /// A request the encoder cannot serve (empty batch, text too long, …).
  case invalidRequest(String)

  public var description: String {
    switch self {
    case .modelFolder(let folder, let problem): "CLIP model folder \(folder): \(problem)"
    case .unexpectedModel(let problem): "unexpected CLIP model: \(problem)"
    case .invalidRequest(let problem): problem
    }
  }
}
