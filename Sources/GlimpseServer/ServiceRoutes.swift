import Catalog
import Foundation
import Hardware
import Hummingbird

/// Health, readiness, hardware, metrics, the web page and the API description.
struct ServiceRoutes {
  let state: ServerState

  func register(on router: RouteRegistrar) {
    router.get("/healthz", scope: nil) { _, _ in JSONBody.response(["status": "ok"]) }
    router.get("/readyz", scope: nil) { _, _ in
      // Ready = models loaded and the catalog reachable (a PostgreSQL catalog's state comes
      // from its pool's probe, run every 250 ms), so that a balancer stops sending
      // catalog requests to a replica that would answer them 503.
      let services = try state.services()
      do {
        try await services.store.checkAvailable()
      } catch is CatalogError {
        throw APIError.catalogUnavailable("the catalog's database cannot be reached")
      }
      return JSONBody.response(["status": "ready"])
    }
    router.get("/v1/ar/stream", scope: nil) { _, _ -> Response in
      throw APIError.badRequest(
        "/v1/ar/stream is a WebSocket: send an upgrade request (Connection: Upgrade, Upgrade: websocket)")
    }
    router.get("/v1/hardware") { _, _ in JSONBody.response(hardware(), snakeCase: true) }
    router.get("/metrics") { _, _ in
      if let services = try? state.services() { state.metrics.refreshCatalogGauges(services.store.status) }
      return Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: state.metrics.exposition())))
    }
    for (path, file, type) in WebAssets.routes {
      router.get(path, scope: nil) { _, _ in try WebAssets.response(file: file, contentType: type) }
    }
  }

  private struct Hardware: Encodable {
    var device: String
    var reason: String
    var host: HostInfo
    var gpus: [GPUInfo]
    var nvml: String?
    var models: [ModelStatus]
    var ready: Bool
    var catalog: CatalogStatus?
  }

  private func hardware() -> Hardware {
    let loaded = state.loadedModels()
    let nvml = NVML.shared
    var gpus: [GPUInfo] = []
    var nvmlProblem: String?
    switch nvml {
    case .success(let library): gpus = library.gpus()
    case .failure(let problem): nvmlProblem = problem.description
    }
    return Hardware(
      device: loaded.map { "\($0.device.device)" } ?? "loading", reason: loaded?.device.reason ?? "",
      host: HostInfo.current(), gpus: gpus, nvml: nvmlProblem, models: loaded?.statuses ?? [],
      ready: loaded != nil, catalog: try? state.services().store.status)
  }
}

/// The page and the API description, shipped as resources of this module.
enum WebAssets {
  static let routes: [(path: String, file: String, contentType: String)] = [
    ("/", "index.html", "text/html; charset=utf-8"),
    ("/index.html", "index.html", "text/html; charset=utf-8"),
    ("/app.js", "app.js", "text/javascript; charset=utf-8"),
    ("/style.css", "style.css", "text/css; charset=utf-8"),
    ("/openapi.yaml", "openapi.yaml", "application/yaml; charset=utf-8"),
  ]

  static func response(file: String, contentType: String) throws -> Response {
    guard let url = Bundle.module.url(forResource: file, withExtension: nil, subdirectory: "Web"),
      let data = try? Data(contentsOf: url)
    else {
      throw APIError.notFound("\(file) is not part of this build")
    }
    return Response(
      status: .ok, headers: [.contentType: contentType, .cacheControl: "no-cache"],
      body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
  }
}
