import Foundation
import HTTPTypes
import Hummingbird

/// Writes to the catalog need a key when the server has any (`--api-key`). Reads stay open:
/// the keys protect the catalog's content, not the models' compute.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
  let keys: Set<String>

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    if !keys.isEmpty && isWrite(request) && !keys.contains(presentedKey(request) ?? "") {
      throw APIError(
        .unauthorized, "unauthorized",
        "writes need an API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'")
    }
    return try await next(request, context)
  }

  private func isWrite(_ request: Request) -> Bool {
    request.uri.path.hasPrefix("/v1/items") && [.post, .put, .delete, .patch].contains(request.method)
  }

  private func presentedKey(_ request: Request) -> String? {
    if let key = request.headers[HTTPField.Name("X-API-Key")!] { return key }
    guard let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ")
    else {
      return nil
    }
    return String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
  }
}

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

/// Answers 504 when a request runs longer than the limit. The work it started (a queued model
/// run) still completes; only the answer is abandoned.
func withTimeLimit(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Response) async throws
  -> Response
{
  try await withThrowingTaskGroup(of: Response.self) { group in
    group.addTask { try await body() }
    group.addTask {
      try await Task.sleep(for: limit)
      throw APIError(.gatewayTimeout, "timeout", "the request took longer than \(limit)")
    }
    defer { group.cancelAll() }
    return try await group.next()!
  }
}

/// Counts the HTTP requests being served, for the batchers (`ServerState.requestsInFlight`).
struct RequestsInFlightMiddleware<Context: RequestContext>: RouterMiddleware {
  let count: LockedValue<Int>

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    count.update { $0 += 1 }
    defer { count.update { $0 -= 1 } }
    return try await next(request, context)
  }
}
