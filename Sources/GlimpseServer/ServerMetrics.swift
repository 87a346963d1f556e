import Catalog
import Foundation
import Hardware
import Hummingbird
import Prometheus
import Services

/// The Prometheus registry behind `GET /metrics`: requests per route, model queues and
/// batches, AR frames, GPU memory. It is owned by the server (not the process-wide
/// `MetricsSystem`), so that several servers in one test process keep separate counts.
public final class ServerMetrics: Sendable {
  public let registry = PrometheusCollectorRegistry()

  static let latencyBuckets: [Duration] = [
    .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
    .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
    .seconds(2.5), .seconds(5), .seconds(10),
  ]
  static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128]

  public init() {
    // Counters that should read 0 before anything happened, not be absent.
    for name in ["glimpse_ar_frames_dropped_total", "glimpse_ar_frames_processed_total"] {
      _ = registry.makeCounter(name: name)
    }
  }

  func requestFinished(route: String, method: String, status: Int, duration: Duration) {
    let labels = [("route", route), ("method", method), ("status", String(status))]
    registry.makeCounter(name: "http_requests_total", labels: labels).increment()
    registry.makeDurationHistogram(
      name: "http_request_duration_seconds", labels: [("route", route), ("method", method)],
      buckets: Self.latencyBuckets
    ).record(duration)
  }

  /// The observer a model's batcher reports to.
  func batcherObserver(model: String) -> BatcherObserver {
    let labels = [("model", model)]
    let batchSize = registry.makeValueHistogram(
      name: "glimpse_batch_size", labels: labels, buckets: Self.batchBuckets)
    let runTime = registry.makeDurationHistogram(
      name: "glimpse_model_run_seconds", labels: labels, buckets: Self.latencyBuckets)
    let queueDepth = registry.makeGauge(name: "glimpse_queue_depth", labels: labels)
    return BatcherObserver(
      batchRan: { size, seconds in
        batchSize.record(Double(size))
        runTime.record(.nanoseconds(Int64(seconds * 1e9)))
      },
      queueDepthChanged: { queueDepth.set(Double($0)) })
  }

  func arFrame(dropped: Bool) {
    registry.makeCounter(
      name: dropped ? "glimpse_ar_frames_dropped_total" : "glimpse_ar_frames_processed_total"
    )
    .increment()
  }

  /// GPU memory and utilization, read from NVML when the metrics are scraped.
  func refreshGPUGauges() {
    guard case .success(let nvml) = NVML.shared else { return }
    for gpu in nvml.gpus() {
      let labels = [("gpu", String(gpu.index)), ("name", gpu.name)]
      registry.makeGauge(name: "glimpse_gpu_memory_used_bytes", labels: labels).set(
        Double(gpu.memoryUsedBytes))
      registry.makeGauge(name: "glimpse_gpu_memory_total_bytes", labels: labels).set(
        Double(gpu.memoryTotalBytes))
      if let utilization = gpu.utilizationPercent {
        registry.makeGauge(name: "glimpse_gpu_utilization_percent", labels: labels).set(Double(utilization))
      }
    }
  }

  /// Reports catalog calls: latency by operation, errors by operation and kind.
  func catalogObserver() -> CatalogCallObserver {
    let registry = registry
    return { operation, seconds, errorKind in
      registry.makeDurationHistogram(
        name: "glimpse_catalog_call_seconds", labels: [("operation", operation)], buckets: Self.latencyBuckets
      ).record(.nanoseconds(Int64(seconds * 1e9)))
      if let errorKind {
        registry.makeCounter(
          name: "glimpse_catalog_errors_total", labels: [("operation", operation), ("kind", errorKind)]
        ).increment()
      }
    }
  }

  /// The catalog's availability and pool, read when the metrics are scraped.
  func refreshCatalogGauges(_ status: CatalogStatus) {
    let labels = [("store", status.kind)]
    registry.makeGauge(name: "glimpse_catalog_available", labels: labels).set(
      Double(status.available ? 1 : 0))
    let pool: [(String, Int?)] = [
      ("glimpse_catalog_pool_size", status.poolSize),
      ("glimpse_catalog_calls_in_flight", status.callsInFlight),
      ("glimpse_catalog_outages", status.outages),
    ]
    for case (let name, let value?) in pool {
      registry.makeGauge(name: name, labels: labels).set(Double(value))
    }
  }

  func exposition() -> String {
    refreshGPUGauges()
    return registry.emitToString()
  }
}

/// Counts every request and its latency under its route pattern (`/v1/items/{id}`, not the
/// id), so that the number of series stays bounded.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
  let metrics: ServerMetrics

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    let start = ContinuousClock.now
    let response: Response
    do {
      response = try await next(request, context)
    } catch {
      let status = APIError(error).status.code
      metrics.requestFinished(
        route: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: status,
        duration: start.duration(to: .now))
      throw error
    }
    metrics.requestFinished(
      route: context.endpointPath ?? "unmatched", method: request.method.rawValue,
      status: response.status.code,
      duration: start.duration(to: .now))
    return response
  }
}
