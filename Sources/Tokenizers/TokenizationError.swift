import Foundation

/// Why a `tokenizer.json` cannot be loaded or a text cannot be encoded.
public enum TokenizationError: Error, CustomStringConvertible, Equatable {
  /// A component type this runtime does not implement: `unsupported normalizer 'X'`.
  case unsupported(component: String, type: String)
  /// A required field is missing or has the wrong shape.
  case malformed(String)
  /// The model needs a token (unknown token, merge result, byte) its vocabulary lacks.
  case missingToken(String)
  case unreadable(path: String, reason: String)

  public var description: String {
    switch self {
    case .unsupported(let component, let type):
      "unsupported \(component) '\(type)' in tokenizer.json"
    case .malformed(let detail): "malformed tokenizer.json: \(detail)"
    case .missingToken(let token): "token '\(token)' is not in the tokenizer's vocabulary"
    case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
    }
  }
}
