/// Numeric precision of the model files to run (`--precision`, `GLIMPSE_PRECISION`).
public enum Precision: String, Sendable, CaseIterable, Codable, CustomStringConvertible {
  case fp32
  case fp16
  /// Dynamically quantized weights (`model.int8.onnx`, made by `scripts/quantize-clip`), for CPUs.
  case int8

  public init(parsing text: String) throws {
    guard let value = Precision(rawValue: text.lowercased()) else {
      throw PrecisionError(text: text)
    }
    self = value
  }

  public var description: String { rawValue }
}

public struct PrecisionError: Error, CustomStringConvertible {
  public let text: String
  public var description: String { "invalid precision '\(text)': use fp32, fp16 or int8" }
}
