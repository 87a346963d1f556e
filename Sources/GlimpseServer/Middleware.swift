import BlockingWork
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// CORS for the configured origins (`*` allows any): answers preflight requests and adds the
/// allow headers to responses for an allowed `Origin`.
struct CORSOriginsMiddleware<Context: RequestContext>: RouterMiddleware {
  let origins: [String]

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    guard let origin = request.headers[.origin], origins.contains("*") || origins.contains(origin) else {
      return try await next(request, context)
    }
    let allowed = origins.contains("*") ? "*" : origin
    if request.method == .options {
      return Response(
        status: .noContent,
        headers: [
          .accessControlAllowOrigin: allowed, .accessControlAllowMethods: "GET, POST, PUT, DELETE, OPTIONS",
          .accessControlAllowHeaders: "Content-Type, Authorization, X-API-Key", .accessControlMaxAge: "600",
          .vary: "Origin",
        ])
    }
    var response = try await next(request, context)
    response.headers[.accessControlAllowOrigin] = allowed
    response.headers[.vary] = "Origin"
    return response
  }
}

/// Answers 504 as soon as a request runs longer than the limit, and cancels its work: queued
/// model inputs leave their queue, and blocking work not yet started never starts. Work that
/// cannot be interrupted (a decode in progress) finishes in the background and its result is
/// dropped. The request body is read before this starts (`RouteRegistrar`), so the abandoned
/// work never touches the connection again.
func withTimeLimit(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Response) async throws
  -> Response
{
  let outcome = FirstOutcome<Response>()
  let work = Task {
    do {
      outcome.resolve(.success(try await body()))
    } catch {
      outcome.resolve(.failure(error))
    }
  }
  let timer = Task {
    try await Task.sleep(for: limit)
    outcome.resolve(.failure(APIError(.gatewayTimeout, "timeout", "the request took longer than \(limit)")))
  }
  defer {
    work.cancel()
    timer.cancel()
  }
  return try await withTaskCancellationHandler {
    try await outcome.value()
  } onCancel: {
    outcome.resolve(.failure(CancellationError()))
  }
}

/// Counts the HTTP requests being served, for the batchers (`ServerState.requestsInFlight`).
struct RequestsInFlightMiddleware<Context: RequestContext>: RouterMiddleware {
  let count: NIOLockedValueBox<Int>

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    count.withLockedValue { $0 += 1 }
    defer { count.withLockedValue { $0 -= 1 } }
    return try await next(request, context)
  }
}
