import Foundation
import Hummingbird
import Runtime

/// Health, readiness, hardware, metrics, the web page and the API description.
struct ServiceRoutes {
  let state: ServerState

  func register(on router: RouteRegistrar) {
    router.get("/healthz", scope: nil) { _, _ in JSONBody.response(["status": "ok"]) }
    router.get("/readyz", scope: nil) { _, _ in
      _ = try state.services()
      return JSONBody.response(["status": "ready"])
    }
    router.get("/v1/ar/stream", scope: nil) { _, _ -> Response in
      throw APIError.badRequest(
        "/v1/ar/stream is a WebSocket: send an upgrade request (Connection: Upgrade, Upgrade: websocket)")
    }
    router.get("/v1/hardware") { _, _ in JSONBody.response(hardware(), snakeCase: true) }
    router.get("/metrics") { _, _ in
      Response(
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
      ready: loaded != nil)
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
