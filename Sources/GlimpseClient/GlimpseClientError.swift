import Foundation
import HTTPTypes
import OpenAPIRuntime

/// An error answer of the server, typed: its HTTP status and the `code` and `message` of its
/// JSON error body (`{"error": {"code", "message"}}`, or OpenAI's shape on `/v1/embeddings`).
public struct GlimpseClientError: Error, Sendable, Equatable, CustomStringConvertible {
  public var status: Int
  /// The server's code: `invalid_image`, `not_found`, `queue_full`, `unauthorized`...
  public var code: String
  public var message: String

  public init(status: Int, code: String, message: String) {
    self.status = status
    self.code = code
    self.message = message
  }

  /// Status 0: no HTTP answer (a time-out) or an error inside the AR stream.
  public var description: String { status == 0 ? "\(code): \(message)" : "\(status) \(code): \(message)" }

  private struct Body: Decodable {
    struct Detail: Decodable {
      var code: String?
      var message: String?
    }
    var error: Detail
  }

  /// The error an answer's body carries; a body that is no JSON error keeps its first bytes
  /// as the message (a proxy's HTML page, say).
  init(status: Int, body: Data) {
    let detail = (try? JSONDecoder().decode(Body.self, from: body))?.error
    self.init(
      status: status, code: detail?.code ?? "http_\(status)",
      message: detail?.message ?? String(decoding: body.prefix(500), as: UTF8.self))
  }
}

/// Turns every non-2xx answer into a `GlimpseClientError` before the generated code sees it,
/// so that each call has one error path whatever the operation documents.
struct ErrorMiddleware: ClientMiddleware {
  /// The most of an error body read (error bodies are small JSON).
  static let maxErrorBody = 1 << 20

  func intercept(
    _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
    next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
  ) async throws -> (HTTPResponse, HTTPBody?) {
    let (response, responseBody) = try await next(request, body, baseURL)
    guard response.status.kind != .successful else { return (response, responseBody) }
    var data = Data()
    if let responseBody { data = try await Data(collecting: responseBody, upTo: Self.maxErrorBody) }
    throw GlimpseClientError(status: response.status.code, body: data)
  }
}

/// Sends the API key as `Authorization: Bearer KEY` on every request.
struct AuthorizationMiddleware: ClientMiddleware {
  let apiKey: String

  func intercept(
    _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
    next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
  ) async throws -> (HTTPResponse, HTTPBody?) {
    var request = request
    request.headerFields[.authorization] = "Bearer \(apiKey)"
    return try await next(request, body, baseURL)
  }
}

/// The `GlimpseClientError` behind an error the generated client threw (it wraps what
/// middleware throws in `ClientError`); other errors (the network) unchanged.
func unwrapped(_ error: any Error) -> any Error {
  if let error = error as? ClientError, let underlying = error.underlyingError as? GlimpseClientError {
    return underlying
  }
  return error
}
