import CLIP
import Catalog
import Detection
import Foundation
import Hummingbird
import Imaging
import NIOCore
import NIOHTTP1
import Services

/// An error answered to the client as `{"error": {"code", "message"}}` with its HTTP status
/// (on the OpenAI-compatible routes, OpenAI's shape: `OpenAIErrorBody`).
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
  public var status: HTTPResponse.Status
  public var code: String
  public var message: String
  /// Extra headers, e.g. `Retry-After` on 429.
  public var headers: HTTPFields = [:]
  /// The request field at fault, when one is (OpenAI's `param`).
  public var param: String?
  /// The body's shape, set by the route that failed (`RouteRegistrar`).
  var style: ErrorStyle = .glimpse

  public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
    self.status = status
    self.code = code
    self.message = message
  }

  public var description: String { "\(status.code) \(code): \(message)" }

  static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
  static func invalidParameter(_ message: String) -> APIError {
    APIError(.badRequest, "invalid_parameter", message)
  }
  static func unprocessable(_ message: String) -> APIError {
    APIError(.unprocessableContent, "unprocessable", message)
  }
  static func unsupportedMediaType(_ message: String) -> APIError {
    APIError(.unsupportedMediaType, "unsupported_media_type", message)
  }
  static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
  static let notReady = APIError(.serviceUnavailable, "not_ready", "the models are still loading")

  public func response(from request: Request, context: some RequestContext) throws -> Response {
    var response =
      switch style {
      case .glimpse: JSONBody.response(body, status: status)
      case .openAI: JSONBody.response(OpenAIErrorBody(self), status: status)
      }
    response.headers.append(contentsOf: headers)
    return response
  }

  /// The JSON body the client gets.
  var body: some Encodable { ErrorBody(error: .init(code: code, message: message)) }

  private struct ErrorBody: Encodable {
    struct Detail: Encodable {
      var code: String
      var message: String
    }
    var error: Detail
  }
}

extension APIError {
  /// The API error for anything thrown while serving a request: module errors keep their
  /// message and get the status that fits; unknown errors become a 500 without internals.
  init(_ error: any Error) {
    switch error {
    case let error as APIError: self = error
    case let error as ImagingError: self = Self.imaging(error)
    case let error as CLIPError: self = Self.clip(error)
    case let error as DetectionError: self = Self.detection(error)
    case let error as CatalogError: self = Self.catalog(error)
    case let error as BatcherError: self = Self.batcher(error)
    case let error as HTTPError: self = Self.http(error)
    case is NIOTooManyBytesError:
      self = APIError(.contentTooLarge, "payload_too_large", "the request body is over the limit")
    case is CancellationError: self = APIError(.serviceUnavailable, "cancelled", "the request was cancelled")
    case let error as HTTPParserError:
      // The connection broke inside the body: it ended early (a body shorter than its
      // Content-Length) or turned into bytes that are no HTTP.
      self = .badRequest(
        error == .invalidEOFState
          ? "the request body ended before its Content-Length" : "malformed request body: \(error)")
    default: self = APIError(.internalServerError, "internal", "internal error")
    }
  }

  private static func imaging(_ error: ImagingError) -> APIError {
    switch error.kind {
    case .unsupportedMediaType: APIError(.unsupportedMediaType, "unsupported_media_type", error.message)
    case .tooLarge: APIError(.contentTooLarge, "payload_too_large", error.message)
    case .corrupt: APIError(.badRequest, "invalid_image", error.message)
    }
  }

  private static func clip(_ error: CLIPError) -> APIError {
    switch error {
    case .invalidRequest(let message): .badRequest(message)
    default: APIError(.internalServerError, "model_error", "the model could not run on this input")
    }
  }

  private static func detection(_ error: DetectionError) -> APIError {
    switch error {
    case .undecodableImage(let imagingError): imaging(imagingError)
    case .invalidImage(let message): APIError(.badRequest, "invalid_image", message)
    case .invalidRequest(let message): .badRequest(message)
    case .unexpectedModel:
      APIError(.internalServerError, "model_error", "the detector could not run on this input")
    }
  }

  private static func catalog(_ error: CatalogError) -> APIError {
    switch error {
    // The details (SQL, file paths) go to the log, not to the client.
    case .storage, .modelMismatch, .locked:
      APIError(.internalServerError, "storage_error", "the catalog could not complete the request")
    case .unavailable:
      catalogUnavailable("the catalog's database cannot be reached: retry in a moment")
    default: .badRequest(error.description)
    }
  }

  /// 503 while the catalog's database cannot be reached: a balancer or client retries (on
  /// another replica, or after `Retry-After`).
  static func catalogUnavailable(_ message: String) -> APIError {
    var apiError = APIError(.serviceUnavailable, "catalog_unavailable", message)
    apiError.headers[.retryAfter] = "1"
    return apiError
  }

  private static func batcher(_ error: BatcherError) -> APIError {
    switch error {
    case .queueFull:
      var apiError = APIError(.tooManyRequests, "queue_full", error.description)
      apiError.headers[.retryAfter] = "1"
      return apiError
    // The same answer as `RequestLimits.checkBatch`: one rule, one status, wherever it trips.
    case .tooManyInputs: return APIError(.contentTooLarge, "payload_too_large", error.description)
    case .closed: return APIError(.serviceUnavailable, "shutting_down", error.description)
    }
  }

  private static func http(_ error: HTTPError) -> APIError {
    let message = error.body ?? error.status.reasonPhrase
    return switch error.status {
    case .notFound: .notFound(error.body ?? "no such route")
    case .methodNotAllowed: APIError(.methodNotAllowed, "method_not_allowed", message)
    case .contentTooLarge:
      APIError(.contentTooLarge, "payload_too_large", "the request body is over the limit")
    case .unauthorized: APIError(.unauthorized, "unauthorized", message)
    default: APIError(error.status, error.status.code < 500 ? "bad_request" : "internal", message)
    }
  }
}
