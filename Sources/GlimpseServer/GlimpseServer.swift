import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import ServiceLifecycle

/// The HTTP server: builds the router and the application, and runs it with the model
/// loading beside it.
public enum GlimpseServer {
  /// Every route, behind the middleware that makes errors JSON, counts requests, refuses
  /// non-canonical paths and cross-site writes, rate-limits and applies CORS; each route
  /// checks its own access scope (`RouteRegistrar`).
  public static func makeRouter(state: ServerState) -> Router<GlimpseRequestContext> {
    let router = Router(context: GlimpseRequestContext.self)
    let table = RouteTable()
    router.middlewares.add(RequestMetricsMiddleware(metrics: state.metrics))
    router.middlewares.add(RequestsInFlightMiddleware(count: state.requestsInFlight))
    router.middlewares.add(ServerTimingMiddleware())
    router.middlewares.add(contentSecurity)
    if !state.configuration.corsOrigins.isEmpty {
      router.middlewares.add(CORSOriginsMiddleware(origins: state.configuration.corsOrigins))
    }
    router.middlewares.add(JSONErrorMiddleware(routes: table))
    router.middlewares.add(RequestShapeMiddleware(access: state.access))
    if let rateLimiter = state.rateLimiter {
      router.middlewares.add(RateLimitMiddleware(limiter: rateLimiter, access: state.access))
    }
    let registrar = RouteRegistrar(router: router, state: state, table: table)
    ServiceRoutes(state: state).register(on: registrar)
    EmbedRoutes(state: state).register(on: registrar)
    OpenAIRoutes(state: state).register(on: registrar)
    SearchRoutes(state: state).register(on: registrar)
    ItemRoutes(state: state).register(on: registrar)
    DetectRoutes(state: state).register(on: registrar)
    return router
  }

  /// Hummingbird's security headers on every answer: `nosniff`, and a content security policy
  /// that lets the page run its own scripts and styles only (no inline script, nothing from
  /// elsewhere), talk to this server (and its AR WebSocket), and never be framed.
  static var contentSecurity: ContentSecurityMiddleware<GlimpseRequestContext> {
    ContentSecurityMiddleware(contentSecurityPolicy: [
      .defaultSrc(.self), .scriptSrc(.self), .styleSrc(.self), .imgSrc(.self, "data:", "blob:"),
      .mediaSrc(.self, "blob:"), .connectSrc(.self, .scheme(.ws), .scheme(.wss)), .objectSrc(.none),
      .baseURI(.none), .formAction(.self), .frameAncestors(.none),
    ])
  }

  /// The application: HTTP/1.1 with the WebSocket upgrade for the AR stream, every
  /// connection behind the connection guard, and TLS when configured.
  public static func makeApplication(state: ServerState, logger: Logger) throws -> some ApplicationProtocol {
    let configuration = state.configuration
    return Application(
      router: makeRouter(state: state),
      server: try serverBuilder(state: state),
      configuration: .init(
        address: .hostname(configuration.host, port: configuration.port), serverName: "glimpse"),
      logger: logger)
  }

  private static func serverBuilder(state: ServerState) throws -> HTTPServerBuilder {
    let configuration = state.configuration
    let webSocket = WebSocketServerConfiguration(
      maxFrameSize: configuration.limits.maxBodyBytes, validateUTF8: true)
    let registry = state.connections
    let plain = HTTPServerBuilder { responder in
      GuardedChannel(
        base: HTTP1WebSocketUpgradeChannel(
          responder: responder, configuration: .init(ws: webSocket),
          shouldUpgrade: { request, channel, logger in
            try await ARStreamUpgrade(state: state).decide(request, channel: channel, logger: logger)
          }),
        limits: configuration.connections, registry: registry)
    }
    guard let tls = configuration.tls else { return plain }
    return try .tls(plain, tlsConfiguration: tls.serverConfiguration())
  }

  /// Serves until SIGTERM or SIGINT. The socket opens at once (`/healthz` answers); `load`
  /// runs beside it and `/readyz` answers 200 when it returns. On shutdown the server stops
  /// accepting, lets requests in flight finish, then `shutdown` closes the store. SIGHUP
  /// re-reads the API key file.
  public static func run(
    state: ServerState, logger: Logger, load: @escaping @Sendable () async throws -> LoadedModels,
    shutdown: @escaping @Sendable (LoadedModels) async -> Void
  ) async throws {
    let loader = ModelLoaderService(state: state, logger: logger, load: load, shutdown: shutdown)
    let application = try makeApplication(state: state, logger: logger)
    let reloader = KeyReloadService(access: state.access, logger: logger)
    // Services stop in reverse order: the server drains first, then the loader closes the store.
    let group = ServiceGroup(
      configuration: .init(
        services: [.init(service: loader), .init(service: reloader), .init(service: application)],
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
