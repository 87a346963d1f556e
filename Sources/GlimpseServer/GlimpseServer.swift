import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle

/// The HTTP server: builds the router and the application, and runs it with the model
/// loading beside it.
public enum GlimpseServer {
  /// Every route, behind the middleware that makes errors JSON, counts requests, checks API
  /// keys and applies CORS.
  public static func makeRouter(state: ServerState) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.middlewares.add(RequestMetricsMiddleware(metrics: state.metrics))
    router.middlewares.add(RequestsInFlightMiddleware(count: state.requestsInFlight))
    router.middlewares.add(ServerTimingMiddleware())
    if !state.configuration.corsOrigins.isEmpty {
      router.middlewares.add(CORSOriginsMiddleware(origins: state.configuration.corsOrigins))
    }
    router.middlewares.add(JSONErrorMiddleware())
    router.middlewares.add(APIKeyMiddleware(keys: state.configuration.apiKeys))
    let timed = TimedRouter(router: router, limit: state.configuration.limits.requestTimeout)
    ServiceRoutes(state: state).register(on: router)
    EmbedRoutes(state: state).register(on: timed)
    SearchRoutes(state: state).register(on: timed)
    ItemRoutes(state: state).register(on: timed)
    DetectRoutes(state: state).register(on: timed)
    return router
  }

  /// The application: HTTP/1.1 with the WebSocket upgrade for the AR stream.
  public static func makeApplication(state: ServerState, logger: Logger) -> some ApplicationProtocol {
    let configuration = state.configuration
    let webSocket = WebSocketServerConfiguration(maxFrameSize: configuration.limits.maxBodyBytes)
    return Application(
      router: makeRouter(state: state),
      server: .http1WebSocketUpgrade(configuration: .init(ws: webSocket)) { request, _, logger in
        guard request.path?.split(separator: "?").first == "/v1/ar/stream" else { return .dontUpgrade }
        let session = ARStreamSession(state: state, logger: logger)
        return .upgrade([:]) { inbound, outbound, _ in await session.run(inbound: inbound, outbound: outbound)
        }
      },
      configuration: .init(
        address: .hostname(configuration.host, port: configuration.port), serverName: "glimpse"),
      logger: logger)
  }

  /// Serves until SIGTERM or SIGINT. The socket opens at once (`/healthz` answers); `load`
  /// runs beside it and `/readyz` answers 200 when it returns. On shutdown the server stops
  /// accepting, lets requests in flight finish, then `shutdown` closes the store.
  public static func run(
    state: ServerState, logger: Logger, load: @escaping @Sendable () async throws -> LoadedModels,
    shutdown: @escaping @Sendable (LoadedModels) async -> Void
  ) async throws {
    let loader = ModelLoaderService(state: state, logger: logger, load: load, shutdown: shutdown)
    let application = makeApplication(state: state, logger: logger)
    // Services stop in reverse order: the server drains first, then the loader closes the store.
    let group = ServiceGroup(
      configuration: .init(
        services: [.init(service: loader), .init(service: application)],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
  }
}

/// Loads the models while the server already listens, and closes the store at shutdown. A
/// failed load ends the whole service group, so `glimpse serve` exits with the error.
struct ModelLoaderService: Service {
  let state: ServerState
  let logger: Logger
  let load: @Sendable () async throws -> LoadedModels
  let shutdown: @Sendable (LoadedModels) async -> Void

  func run() async throws {
    var loaded: LoadedModels?
    do {
      let models = try await load()
      state.ready(with: models)
      loaded = models
      let uptime = state.startedAt.duration(to: .now)
      logger.info("Ready in \(String(format: "%.2f", uptime.milliseconds / 1000)) s since start")
    } catch {
      // Fail fast: a server that can never become ready (a missing model, `--device cuda`
      // without a GPU) exits with the reason rather than answering 503 forever.
      state.failed("\(error)")
      throw error
    }
    try? await gracefulShutdown()
    state.beginShutdown()
    if let loaded { await shutdown(loaded) }
  }
}

/// Registers routes whose handlers run under the request time limit.
struct TimedRouter {
  let router: Router<BasicRequestContext>
  let limit: Duration

  typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

  func post(_ path: RouterPath, _ handler: @escaping Handler) { router.post(path, use: timed(handler)) }
  func get(_ path: RouterPath, _ handler: @escaping Handler) { router.get(path, use: timed(handler)) }
  func put(_ path: RouterPath, _ handler: @escaping Handler) { router.put(path, use: timed(handler)) }
  func delete(_ path: RouterPath, _ handler: @escaping Handler) { router.delete(path, use: timed(handler)) }

  private func timed(_ handler: @escaping Handler) -> Handler {
    let limit = self.limit
    return { request, context in try await withTimeLimit(limit) { try await handler(request, context) } }
  }
}
