/// Why an image could not be decoded; `kind` maps onto an HTTP status in the server.
public struct ImagingError: Error, Equatable, CustomStringConvertible, Sendable {
  public enum Kind: Sendable, Equatable {
    /// Not an image format Glimpse reads (HTTP 415).
    case unsupportedMediaType
    /// More pixels than allowed: a decompression bomb or a needlessly huge photo (HTTP 413).
    case tooLarge
    /// Truncated, corrupt or empty data (HTTP 400).
    case corrupt
  }

  public let kind: Kind
  public let message: String

  public var description: String { message }

  static func unsupported(_ message: String) -> ImagingError {
    ImagingError(kind: .unsupportedMediaType, message: message)
  }

  static func corrupt(_ message: String) -> ImagingError {
    ImagingError(kind: .corrupt, message: message)
  }
}
