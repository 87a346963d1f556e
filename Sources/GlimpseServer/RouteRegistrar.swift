import Hummingbird
import NIOConcurrencyHelpers

/// Registers the routes: each demands its access scope (decided here, at registration, never
/// from the path a request spells), runs under the request time limit, and is recorded in the
/// route table that tells a wrong method (405) from an unknown path (404).
struct RouteRegistrar {
  typealias Handler = @Sendable (Request, GlimpseRequestContext) async throws -> Response

  let router: Router<GlimpseRequestContext>
  let state: ServerState
  let table: RouteTable

  func get(
    _ path: String, scope: KeyScope? = .read, errors: ErrorStyle = .glimpse, _ handler: @escaping Handler
  ) {
    add(.get, path, scope, handler, errors: errors)
  }

  func post(
    _ path: String, scope: KeyScope? = .read, errors: ErrorStyle = .glimpse, _ handler: @escaping Handler
  ) {
    add(.post, path, scope, handler, errors: errors)
  }

  func put(_ path: String, scope: KeyScope? = .read, _ handler: @escaping Handler) {
    add(.put, path, scope, handler)
  }

  func delete(_ path: String, scope: KeyScope? = .read, _ handler: @escaping Handler) {
    add(.delete, path, scope, handler)
  }

  private func add(
    _ method: HTTPRequest.Method, _ path: String, _ scope: KeyScope?, _ handler: @escaping Handler,
    errors: ErrorStyle = .glimpse
  ) {
    let wrapped = wrap(handler, scope: scope)
    router.on(
      RouterPath(stringLiteral: path), method: method,
      use: errors == .glimpse ? wrapped : styled(wrapped, errors))
    table.add(path, method)
  }

  /// Every error of the route, the key check, body limit and time limit included, leaves in
  /// the route's error shape (the error middleware renders it).
  private func styled(_ handler: @escaping Handler, _ style: ErrorStyle) -> Handler {
    return { request, context in
      do {
        return try await handler(request, context)
      } catch {
        var apiError = APIError(error)
        if !(error is APIError) && apiError.status.code >= 500 {
          // The error middleware sees only the converted error: the cause goes to the log here.
          context.logger.error("\(request.method) \(request.uri.path) (request id \(context.id)): \(error)")
        }
        apiError.style = style
        throw apiError
      }
    }
  }

  /// `scope` nil: public (health, the page, the API description).
  ///
  /// The body is read first, within the size limit (and the connection's body timeout), so
  /// that the timed work never reads from the connection: when the time limit abandons it,
  /// the connection is free. The work then runs under the time limit with a pixel ledger
  /// that returns its decoded-image reservations when the work ends.
  private func wrap(_ handler: @escaping Handler, scope: KeyScope?) -> Handler {
    let limits = state.configuration.limits
    let access = state.access
    let budget = state.pixelBudget
    return { request, context in
      if let scope { try access.authorize(request.headers, scope: scope) }
      var request = request
      request.body = RequestBody(buffer: try await request.body.collect(upTo: limits.maxBodyBytes))
      let buffered = request
      return try await withTimeLimit(limits.requestTimeout) {
        try await budget.withLedger { try await handler(buffered, context) }
      }
    }
  }
}

/// The methods each registered path answers, filled by `RouteRegistrar` as routes are added.
final class RouteTable: Sendable {
  private let routes = NIOLockedValueBox<[(path: String, methods: [HTTPRequest.Method])]>([])

  func add(_ path: String, _ method: HTTPRequest.Method) {
    routes.withLockedValue { routes in
      if let index = routes.firstIndex(where: { $0.path == path }) {
        routes[index].methods.append(method)
      } else {
        routes.append((path, [method]))
      }
    }
  }

  /// The methods of the route `path` matches (`{name}` matches one segment), empty if none.
  func allowedMethods(for path: String) -> [HTTPRequest.Method] {
    let segments = Self.segments(path)
    return routes.withLockedValue { routes in
      routes.first { route in
        let pattern = Self.segments(route.path)
        return pattern.count == segments.count
          && zip(pattern, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
      }?.methods ?? []
    }
  }

  private static func segments(_ path: String) -> [Substring] { path.split(separator: "/") }
}
