import ArgumentParser
import BlockingWork
import CLIP
import Catalog
import Detection
import Foundation
import GlimpseServer
import Hardware
import Logging
import ONNXRuntime

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
    let state: ServerState
    do {
      state = try ServerState(configuration: configuration)
    } catch {
      throw ValidationError("\(error)")
    }
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
    let statuses = loadedStatuses(
      clip: clip, bundle: bundle, detector: detector, detectorPath: detectorPath,
      detectorSeconds: detectorSeconds)
    MemoryTuning.releaseFreedMemory()
    let itemCount = (try? await catalog.count()) ?? 0
    logger.info("Catalog \(store.location): \(itemCount) items")
    var models = LoadedModels(
      clip: clip, clipName: bundle.name, detector: detector, store: catalog, device: choice,
      statuses: statuses)
    models.acceleration = try acceleration(
      clip: clip, choice: choice, environment: environment, configuration: sessionConfiguration)
    return models
  }

  /// What `/v1/hardware` reports of each loaded model, each also logged.
  private func loadedStatuses(
    clip: CLIPModel, bundle: CLIPModelBundle, detector: YOLODetector, detectorPath: String,
    detectorSeconds: Double
  ) -> [ModelStatus] {
    let statuses = [
      status(
        bundle.name, "clip-visual", bundle.visualModel, "\(bundle.precision)", clip.loadSeconds.visual,
        family: clip.family.rawValue),
      status(
        bundle.name, "clip-textual", bundle.textualModel, "\(bundle.precision)", clip.loadSeconds.textual,
        family: clip.family.rawValue),
      status(
        URL(fileURLWithPath: detectorPath).deletingLastPathComponent().lastPathComponent, "detector",
        URL(fileURLWithPath: detectorPath), detector.inputType == .float16 ? "fp16" : "fp32", detectorSeconds),
    ]
    for model in statuses {
      logger.info(
        "Loaded \(model.kind) \(model.name) (\(model.precision), \(model.fileBytes / 1_000_000) MB) in \(String(format: "%.0f", model.loadMilliseconds)) ms"
      )
    }
    return statuses
  }

  /// Runs a blocking load off the cooperative threads (`offload`), returning its result and
  /// duration in seconds.
  private func timed<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> (T, Double) {
    try await offload {
      let start = ContinuousClock.now
      return (try work(), start.duration(to: .now).seconds)
    }
  }

  private func status(
    _ name: String, _ kind: String, _ file: URL, _ precision: String, _ seconds: Double, family: String? = nil
  ) -> ModelStatus {
    let size =
      ((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? NSNumber)?.int64Value ?? 0
    return ModelStatus(
      name: name, kind: kind, precision: precision, fileBytes: size, loadMilliseconds: seconds * 1000,
      family: family)
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
