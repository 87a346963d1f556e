import Foundation
import Hummingbird
import Imaging

/// What a request body holds, told apart by its `Content-Type`.
enum RequestPayload {
  /// A raw image (`image/*` or `application/octet-stream`).
  case image(Data)
  case multipart(MultipartForm)
  case json(Data)

  /// Reads the body (at most `limits.maxBodyBytes`, else 413) and sorts it by content type,
  /// timed as `body` in `Server-Timing`.
  static func read(_ request: Request, limits: RequestLimits) async throws -> RequestPayload {
    try await RequestTimings.measure("body") { try await collect(request, limits: limits) }
  }

  private static func collect(_ request: Request, limits: RequestLimits) async throws -> RequestPayload {
    let contentType = request.headers[.contentType] ?? ""
    let mediaType =
      contentType.split(separator: ";").first.map {
        $0.trimmingCharacters(in: .whitespaces).lowercased()
      } ?? ""
    let kind = try Kind(mediaType: mediaType)
    let buffer = try await request.body.collect(upTo: limits.maxBodyBytes)
    guard buffer.readableBytes > 0 else { throw APIError.badRequest("empty body") }
    let data = Data(buffer: buffer)
    switch kind {
    case .image: return .image(data)
    case .json: return .json(data)
    case .multipart: return .multipart(try MultipartForm(body: data, contentType: contentType))
    }
  }

  private enum Kind {
    case image, json, multipart

    init(mediaType: String) throws {
      if mediaType.hasPrefix("image/") || mediaType == "application/octet-stream" {
        self = .image
      } else if mediaType == "application/json" || mediaType.hasSuffix("+json") {
        self = .json
      } else if mediaType == "multipart/form-data" {
        self = .multipart
      } else {
        throw APIError.unsupportedMediaType(
          mediaType.isEmpty
            ? "no Content-Type: send an image (image/jpeg, image/png, image/webp), multipart/form-data or application/json"
            : "Content-Type \(mediaType) is not accepted: send an image, multipart/form-data or application/json"
        )
      }
    }
  }

  /// The image of a multipart body: its `image` field.
  static func image(in form: MultipartForm) throws -> Data {
    guard let part = form.first("image"), !part.data.isEmpty else {
      throw APIError.badRequest("the multipart body has no non-empty 'image' field")
    }
    return part.data
  }
}

/// Base64 image data from JSON, with or without a `data:image/...;base64,` prefix.
func decodeBase64Image(_ text: String, field: String) throws -> Data {
  let payload = text.hasPrefix("data:") ? String(text.drop { $0 != "," }.dropFirst()) : text
  guard let data = Data(base64Encoded: payload, options: .ignoreUnknownCharacters), !data.isEmpty else {
    throw APIError.badRequest("'\(field)' is not base64-encoded image data")
  }
  return data
}
