/// Errors raised by the ONNX Runtime binding.
///
/// Every `OrtStatus` returned by the C API becomes an `ORTError.runtime` carrying
/// ORT's own error code and message, so callers never see a raw status pointer.
public enum ORTError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The shared library could not be found or opened at any of the paths tried.
  case libraryNotFound(tried: [String])
  /// A library was opened but is not a usable ONNX Runtime (symbol missing, API table absent).
  case notONNXRuntime(path: String, reason: String)
  /// The library is ONNX Runtime, but not the release this binding was written against.
  case unsupportedVersion(path: String, found: String, expected: String)
  /// ONNX Runtime returned a failing status.
  case runtime(code: ORTErrorCode, message: String)
  /// The model file is missing or could not be loaded.
  case modelLoad(path: String, message: String)
  /// An input given to `Session.run` does not fit the model.
  case invalidInput(String)
  /// An execution provider was required but could not be added.
  case providerUnavailable(provider: String, reason: String)
  /// The process's one ONNX Runtime environment was made from another library.
  case environmentExists(library: String, requested: String)

  public var description: String {
    switch self {
    case .libraryNotFound(let tried):
      return """
        ONNX Runtime library not found. Tried:
        \(tried.map { "  - \($0)" }.joined(separator: "\n"))
        Run `scripts/setup` (CPU) or `scripts/setup --gpu` (CUDA) to fetch it into .deps/, \
        or point --ort-lib / GLIMPSE_ORT_LIB at libonnxruntime.so.
        """
    case .notONNXRuntime(let path, let reason):
      return "\(path) is not a usable ONNX Runtime library: \(reason)"
    case .unsupportedVersion(let path, let found, let expected):
      return
        "ONNX Runtime at \(path) is version \(found), but Glimpse needs \(expected). Run `scripts/setup` to fetch the right one."
    case .runtime(let code, let message):
      return "ONNX Runtime error (\(code)): \(message)"
    case .modelLoad(let path, let message):
      return "cannot load model \(path): \(message)"
    case .invalidInput(let message):
      return "invalid model input: \(message)"
    case .providerUnavailable(let provider, let reason):
      return "execution provider \(provider) is not available: \(reason)"
    case .environmentExists(let library, let requested):
      return
        "ONNX Runtime is already running from \(library) in this process; \(requested) cannot run beside it (one library per process)"
    }
  }
}

/// `OrtErrorCode` from the C API.
public enum ORTErrorCode: Int32, Sendable, CustomStringConvertible {
  case ok = 0
  case fail = 1
  case invalidArgument = 2
  case noSuchFile = 3
  case noModel = 4
  case engineError = 5
  case runtimeException = 6
  case invalidProtobuf = 7
  case modelLoaded = 8
  case notImplemented = 9
  case invalidGraph = 10
  case executionProviderFailure = 11
  case unknown = -1

  public var description: String {
    switch self {
    case .ok: "OK"
    case .fail: "FAIL"
    case .invalidArgument: "INVALID_ARGUMENT"
    case .noSuchFile: "NO_SUCHFILE"
    case .noModel: "NO_MODEL"
    case .engineError: "ENGINE_ERROR"
    case .runtimeException: "RUNTIME_EXCEPTION"
    case .invalidProtobuf: "INVALID_PROTOBUF"
    case .modelLoaded: "MODEL_LOADED"
    case .notImplemented: "NOT_IMPLEMENTED"
    case .invalidGraph: "INVALID_GRAPH"
    case .executionProviderFailure: "EP_FAIL"
    case .unknown: "UNKNOWN"
    }
  }
}
