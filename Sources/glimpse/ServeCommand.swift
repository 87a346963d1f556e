import ArgumentParser
import CLIP
import Catalog
import Detection
import Foundation
import GlimpseServer
import Logging
import ONNXRuntime
import Runtime

/// `glimpse serve`: the HTTP API, the AR WebSocket stream and the web page.
struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Serve the HTTP API, the AR stream and the web page (docs/api.md).")

  @Option(help: "Address to listen on (env GLIMPSE_HOST; default 127.0.0.1).")
  var host: String?

  @Option(help: "Port to listen on (env GLIMPSE_PORT; default 8080).")
  var port: Int?

  @Option(help: "CLIP model folder, Immich layout (env GLIMPSE_CLIP_MODEL).")
  var clipModel: String?

  @Option(help: "YOLO detector folder or .onnx file (env GLIMPSE_DETECTOR_MODEL).")
  var detectorModel: String?

  @Option(help: "fp32, fp16 or int8 model files (env GLIMPSE_PRECISION; int8 is for CPUs).")
  var precision: String?

  @OptionGroup var limits: ServeLimitOptions
  @OptionGroup var store: StoreOptions
  @OptionGroup var runtime: RuntimeOptions

  func run() async throws {
    MemoryTuning.applyForServer()
    runtime.bootstrapLogging()
    let logger = Logger(label: "glimpse.serve")
    let configuration = try limits.serverConfiguration(host: host, port: port)
    let state = ServerState(configuration: configuration)
    logger.info(
      "Glimpse \(GlimpseVersion.current) listening on http://\(configuration.host):\(configuration.port) (models loading; /readyz turns 200 when ready)"
    )
    let loader = ServeModelLoader(
      clipOptions: try clipOptions(), detectorModel: detectorModel, store: store, runtime: runtime,
      logger: logger)
    try await GlimpseServer.run(
      state: state, logger: logger, load: { try await loader.load() },
      shutdown: { models in
        logger.info("Shutting down: closing the catalog")
        await closeStore(models.store)
      })
  }

  private func clipOptions() throws -> CLIPModelOptions {
    var options = try CLIPModelOptions.parse([])
    options.modelFolder = clipModel
    options.precision = precision
    options.runtime = runtime
    return options
  }
}

/// Loads everything the server needs, each model on its own thread, and prints the start-up
/// lines: hardware, each model's load time, the catalog.
struct ServeModelLoader: Sendable {
  let clipOptions: CLIPModelOptions
  let detectorModel: String?
  let store: StoreOptions
  let runtime: RuntimeOptions
  let logger: Logger

  func load() async throws -> LoadedModels {
    let (environment, choice) = try runtime.prepareDevice(logger: logger)
    logHardware(choice)
    let clipFolder = clipOptions.resolvedFolder(logger: logger)
    let bundle = try CLIPModelBundle(folder: clipFolder, precision: clipOptions.resolvedPrecision())
    let sessionConfiguration = try runtime.sessionConfiguration(for: choice, precision: bundle.precision)
    let detectorPath = try DetectorOptions.modelFile(
      DetectorOptions.resolvedFolder(explicit: detectorModel, logger: logger))
    let logger = self.logger
    async let clipLoad = timed {
      try CLIPModel(
        bundle: bundle, environment: environment, configuration: sessionConfiguration, logger: logger)
    }
    async let detectorLoad = timed {
      try YOLODetector(
        modelPath: detectorPath, environment: environment, configuration: sessionConfiguration, logger: logger
      )
    }
    // The catalog opens (and rebuilds its index) while the models load: config.json gives
    // the dimension before the towers exist.
    async let catalogOpen = store.open(model: bundle.name, dimension: bundle.configuration.embeddingDimension)
    let (clip, _) = try await clipLoad
    let (detector, detectorSeconds) = try await detectorLoad
    let catalog = try await catalogOpen
    let statuses = [
      status(bundle.name, "clip-visual", bundle.visualModel, "\(bundle.precision)", clip.loadSeconds.visual),
      status(
        bundle.name, "clip-textual", bundle.textualModel, "\(bundle.precision)", clip.loadSeconds.textual),
      status(
        URL(fileURLWithPath: detectorPath).deletingLastPathComponent().lastPathComponent, "detector",
        URL(fileURLWithPath: detectorPath), detector.inputType == .float16 ? "fp16" : "fp32", detectorSeconds),
    ]
    for model in statuses {
      logger.info(
        "Loaded \(model.kind) \(model.name) (\(model.precision), \(model.fileBytes / 1_000_000) MB) in \(String(format: "%.0f", model.loadMilliseconds)) ms"
      )
    }
    MemoryTuning.releaseFreedMemory()
    let itemCount = (try? await catalog.count()) ?? 0
    logger.info("Catalog \(store.location): \(itemCount) items")
    return LoadedModels(
      clip: clip, clipName: bundle.name, detector: detector, store: catalog, device: choice,
      statuses: statuses)
  }

  /// Runs a blocking load on its own thread, returning its result and duration in seconds.
  private func timed<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> (T, Double) {
    try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread {
        let start = ContinuousClock.now
        continuation.resume(with: Result { (try work(), start.duration(to: .now).seconds) })
      }
    }
  }

  private func status(_ name: String, _ kind: String, _ file: URL, _ precision: String, _ seconds: Double)
    -> ModelStatus
  {
    let size =
      ((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? NSNumber)?.int64Value ?? 0
    return ModelStatus(
      name: name, kind: kind, precision: precision, fileBytes: size, loadMilliseconds: seconds * 1000)
  }

  private func logHardware(_ choice: DeviceChoice) {
    let host = HostInfo.current()
    logger.info(
      "CPU: \(host.cpuModel), \(host.logicalCores) logical cores, \(formatGigabytes(host.memoryTotalBytes)) memory"
    )
    switch NVML.shared {
    case .success(let nvml):
      for gpu in nvml.gpus() {
        logger.info(
          "GPU \(gpu.index): \(gpu.name) (compute \(gpu.computeCapability)), VRAM \(formatGigabytes(gpu.memoryTotalBytes)) total, \(formatGigabytes(gpu.memoryUsedBytes)) used, \(formatGigabytes(gpu.memoryFreeBytes)) free"
        )
      }
    case .failure(let problem):
      logger.info("GPU: none (\(problem))")
    }
  }
}

/// The server's limits, keys and CORS origins; each flag falls back to a `GLIMPSE_*` variable.
struct ServeLimitOptions: ParsableArguments {
  @Option(help: "Largest request body in MB (env GLIMPSE_MAX_BODY_MB; default 20).")
  var maxBodyMb: Double?
  @Option(help: "Largest decoded image in pixels (env GLIMPSE_MAX_PIXELS; default 50000000).")
  var maxPixels: Int?
  @Option(help: "Most images or texts per request and per model run (env GLIMPSE_MAX_BATCH; default 32).")
  var maxBatch: Int?
  @Option(help: "Longest wait, in ms, for a model run to fill (env GLIMPSE_MAX_WAIT_MS; default 2).")
  var maxWaitMs: Double?
  @Option(help: "Longest text in characters (env GLIMPSE_MAX_TEXT_LENGTH; default 1000).")
  var maxTextLength: Int?
  @Option(help: "Request time limit in seconds (env GLIMPSE_REQUEST_TIMEOUT_S; default 30).")
  var requestTimeoutS: Double?
  @Option(help: "Most inputs waiting per model before 429 (env GLIMPSE_QUEUE_LENGTH; default 64).")
  var queueLength: Int?
  @Option(
    name: .customLong("api-key"),
    help: "API key required for catalog writes; repeatable (env GLIMPSE_API_KEYS, comma-separated).")
  var apiKeys: [String] = []
  @Option(
    name: .customLong("cors-origin"),
    help: "Origin allowed by CORS, * for any; repeatable (env GLIMPSE_CORS_ORIGINS, comma-separated).")
  var corsOrigins: [String] = []

  func serverConfiguration(host: String?, port: Int?) throws -> ServerConfiguration {
    let environment = ProcessInfo.processInfo.environment
    func value<T: LosslessStringConvertible>(_ flag: T?, _ variable: String) throws -> T? {
      if let flag { return flag }
      guard let text = environment[variable] else { return nil }
      guard let parsed = T(text) else { throw ValidationError("\(variable)='\(text)' is not a valid value") }
      return parsed
    }
    func list(_ flag: [String], _ variable: String) -> [String] {
      flag.isEmpty ? (environment[variable] ?? "").split(separator: ",").map(String.init) : flag
    }
    var configuration = ServerConfiguration()
    configuration.host = try value(host, "GLIMPSE_HOST") ?? configuration.host
    configuration.port = try positive(value(port, "GLIMPSE_PORT"), "port") ?? configuration.port
    var limits = configuration.limits
    if let megabytes = try positive(value(maxBodyMb, "GLIMPSE_MAX_BODY_MB"), "max-body-mb") {
      limits.maxBodyBytes = Int(megabytes * 1024 * 1024)
    }
    limits.maxPixels = try positive(value(maxPixels, "GLIMPSE_MAX_PIXELS"), "max-pixels") ?? limits.maxPixels
    limits.maxBatch = try positive(value(maxBatch, "GLIMPSE_MAX_BATCH"), "max-batch") ?? limits.maxBatch
    limits.maxTextLength =
      try positive(value(maxTextLength, "GLIMPSE_MAX_TEXT_LENGTH"), "max-text-length") ?? limits.maxTextLength
    if let seconds = try positive(value(requestTimeoutS, "GLIMPSE_REQUEST_TIMEOUT_S"), "request-timeout-s") {
      limits.requestTimeout = .milliseconds(Int64(seconds * 1000))
    }
    limits.queueLength =
      try positive(value(queueLength, "GLIMPSE_QUEUE_LENGTH"), "queue-length") ?? limits.queueLength
    configuration.limits = limits
    if let milliseconds = try value(maxWaitMs, "GLIMPSE_MAX_WAIT_MS") {
      guard milliseconds >= 0 else { throw ValidationError("--max-wait-ms must not be negative") }
      configuration.maxWait = .microseconds(Int64(milliseconds * 1000))
    }
    configuration.apiKeys = Set(list(apiKeys, "GLIMPSE_API_KEYS").filter { !$0.isEmpty })
    configuration.corsOrigins = list(corsOrigins, "GLIMPSE_CORS_ORIGINS").filter { !$0.isEmpty }
    return configuration
  }

  private func positive<T: Numeric & Comparable>(_ value: T?, _ name: String) throws -> T? {
    guard let value else { return nil }
    guard value > 0 else { throw ValidationError("--\(name) must be positive") }
    return value
  }
}
