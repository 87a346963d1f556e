import Foundation
import Hardware
import Logging
import NIOConcurrencyHelpers

/// Where the server is in its life: loading models, ready, failed to load, or stopping.
/// `/readyz` and every model route read it; the server listens from the first moment, so
/// that orchestrators see it alive (`/healthz`) while the models load.
public final class ServerState: Sendable {
  enum Phase {
    case loading
    case ready(ModelServices)
    case failed(String)
    case stopping
  }

  private let phase = NIOLockedValueBox<Phase>(.loading)
  let configuration: ServerConfiguration
  let metrics: ServerMetrics
  let startedAt = ContinuousClock.now
  /// HTTP requests being served now (`RequestsInFlightMiddleware`): the batchers wait for
  /// company only when there are others.
  let requestsInFlight = NIOLockedValueBox(0)
  /// Keys, scopes and allowed origins.
  public let access: AccessControl
  /// Open connections, for the connection cap.
  let connections: ConnectionRegistry
  let rateLimiter: RateLimiter?
  /// Decoded pixels held by requests now (`--max-inflight-megapixels`).
  let pixelBudget: PixelBudget
  /// The trackers of detect requests that carry a `stream_id`.
  let streamTrackers = StreamTrackers()

  /// Throws when the API key file cannot be read.
  public init(configuration: ServerConfiguration, metrics: ServerMetrics = ServerMetrics()) throws {
    self.configuration = configuration
    self.metrics = metrics
    access = try AccessControl(configuration: configuration)
    connections = ConnectionRegistry(limit: configuration.connections.maxConnections)
    rateLimiter = configuration.rateLimit.map(RateLimiter.init)
    pixelBudget = PixelBudget(megapixels: configuration.limits.maxInflightMegapixels)
  }

  /// Installs loaded models: from now on `/readyz` answers 200.
  public func ready(with models: LoadedModels) {
    let inFlight = requestsInFlight
    let services = ModelServices(
      models: models, limits: configuration.limits, maxWait: configuration.maxWait, metrics: metrics,
      pixelBudget: pixelBudget, othersInFlight: { inFlight.withLockedValue { $0 } > 1 })
    models.store.observeCalls(metrics.catalogObserver())
    phase.withLockedValue { $0 = .ready(services) }
  }

  /// Records why the models could not be loaded (`/readyz` says it).
  public func failed(_ reason: String) { phase.withLockedValue { $0 = .failed(reason) } }

  /// Refuses new model work from now on (503); requests already queued finish.
  public func beginShutdown() {
    let previous = phase.withLockedValue { phase in
      defer { phase = .stopping }
      return phase
    }
    if case .ready(let services) = previous { services.close() }
  }

  public var isReady: Bool {
    if case .ready = phase.withLockedValue { $0 } { return true }
    return false
  }

  /// The models, or the 503 that explains why there are none.
  func services() throws -> ModelServices {
    switch phase.withLockedValue { $0 } {
    case .ready(let services): return services
    case .loading: throw APIError.notReady
    case .failed(let reason):
      throw APIError(.serviceUnavailable, "not_ready", "the models failed to load: \(reason)")
    case .stopping: throw APIError(.serviceUnavailable, "shutting_down", "the server is shutting down")
    }
  }

  /// The models for routes that only describe them (`/v1/hardware`), nil while loading.
  func loadedModels() -> LoadedModels? {
    if case .ready(let services) = phase.withLockedValue { $0 } { return services.models }
    return nil
  }
}
