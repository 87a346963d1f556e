import Hummingbird

/// Turns every error into the JSON error shape, so that clients never see Hummingbird's
/// plain-text errors (unknown routes, oversized bodies) or an internal type name. A 500 says
/// only "internal error" and the request id; the details go to the log under that id.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
  let routes: RouteTable

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    do {
      return try await next(request, context)
    } catch let error as HTTPError where error.status == .notFound {
      return try methodNotAllowed(request, context: context)
        ?? APIError(error).response(from: request, context: context)
    } catch {
      var apiError = APIError(error)
      if apiError.status.code >= 500 && apiError.status != .serviceUnavailable
        && apiError.status != .gatewayTimeout
      {
        context.logger.error(
          "\(request.method) \(request.uri.path) failed (request id \(context.id)): \(error)")
        apiError.message += " (request id \(context.id); the server's log has the details)"
      }
      return try apiError.response(from: request, context: context)
    }
  }

  /// The router answers 404 for a known path with the wrong method: say 405 and what is allowed.
  private func methodNotAllowed(_ request: Request, context: Context) throws -> Response? {
    var allowed = routes.allowedMethods(for: request.uri.path)
    guard !allowed.isEmpty else { return nil }
    if let get = allowed.firstIndex(of: .get) { allowed.insert(.head, at: get + 1) }
    let list = allowed.map(\.rawValue).joined(separator: ", ")
    var apiError = APIError(
      .methodNotAllowed, "method_not_allowed",
      "\(request.method) is not allowed on \(request.uri.path): use \(list)")
    apiError.headers[.allow] = list
    return try apiError.response(from: request, context: context)
  }
}
