import ArgumentParser
import Foundation
import Hardware
import Logging
import ONNXRuntime

/// Options shared by every command that runs a model. Each flag falls back to a
/// `GLIMPSE_*` environment variable, then to its default.
struct RuntimeOptions: ParsableArguments {
  @Option(help: "Device: auto, cpu, cuda or cuda:N (env GLIMPSE_DEVICE).")
  var device: String?

  @Option(help: "Path to libonnxruntime.so (env GLIMPSE_ORT_LIB; default: .deps/, then the system).")
  var ortLib: String?

  @Option(
    help:
      "GPU execution provider: cuda, or tensorrt when its libraries are present (engines cached in glimpse-data/tensorrt-cache) (env GLIMPSE_PROVIDER; default cuda)."
  )
  var provider: String?

  @Option(
    help:
      "Folder for ONNX Runtime's optimized graphs of CPU sessions, so that later starts skip graph optimization; off disables it (env GLIMPSE_MODEL_CACHE; default glimpse-data/ort-cache)."
  )
  var modelCache: String?

  @Option(help: "Log level: trace, debug, info, warning, error (env GLIMPSE_LOG_LEVEL).")
  var logLevel: String?

  @OptionGroup var gpu: GPUOptions

  var environment: [String: String] { ProcessInfo.processInfo.environment }

  func deviceRequest() throws -> DeviceRequest {
    do {
      return try DeviceRequest(parsing: device ?? environment["GLIMPSE_DEVICE"] ?? "auto")
    } catch {
      throw ValidationError("\(error)")
    }
  }

  /// Session settings for the chosen device: the CUDA provider on a GPU, with TensorRT in
  /// front of it and CUDA graphs on as `plan` says (FP16 engines for FP16 models).
  func sessionConfiguration(for choice: DeviceChoice, precision: Precision = .fp32) throws
    -> SessionConfiguration
  {
    var configuration = SessionConfiguration.forDevice(choice)
    let cache = modelCache ?? environment["GLIMPSE_MODEL_CACHE"] ?? "glimpse-data/ort-cache"
    if cache != "off" && !choice.device.isGPU {
      configuration.optimizedModelCacheFolder = URL(fileURLWithPath: cache).standardizedFileURL.path
    }
    let plan = try acceleratorPlan(for: choice)
    guard case .cuda(let index) = choice.device else { return configuration }
    if plan.cudaGraphs, case .cuda(var options) = configuration.providers.first {
      options.enableCUDAGraph = true
      configuration.providers[0] = .cuda(options)
    }
    if plan.tensorRT {
      let cache = URL(fileURLWithPath: "glimpse-data/tensorrt-cache").standardizedFileURL.path
      try? FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
      configuration.providers.insert(
        .tensorRT(TensorRTOptions(deviceID: index, fp16: precision == .fp16, engineCachePath: cache)), at: 0)
    }
    return configuration
  }

  /// The GPU paths asked for, resolved on `choice` (docs/gpu.md); `prepareDevice` logs its
  /// fallbacks.
  func acceleratorPlan(for choice: DeviceChoice) throws -> AcceleratorPlan {
    let name = (provider ?? environment["GLIMPSE_PROVIDER"] ?? "cuda").lowercased()
    guard ["cuda", "tensorrt"].contains(name) else {
      throw ValidationError("--provider must be cuda or tensorrt, not '\(name)'")
    }
    return AcceleratorPlan.make(
      try gpu.request(tensorRT: name == "tensorrt", environment: environment), device: choice)
  }

  var resolvedLogLevel: Logger.Level {
    Logger.Level(rawValue: (logLevel ?? environment["GLIMPSE_LOG_LEVEL"] ?? "info").lowercased())
      ?? .info
  }

  /// Sets up swift-log once for the process, writing to standard error.
  func bootstrapLogging() {
    let level = resolvedLogLevel
    LoggingBootstrap.once {
      LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
      }
    }
  }

  func loadLibrary() throws -> ORTLibrary {
    try ORTLibrary.load(explicitPath: ortLib)
  }

  /// Sets up logging, loads ONNX Runtime and picks the device (logged with the reason): what
  /// every model load starts with.
  func prepareDevice(logger: Logger) throws -> (environment: ORTEnvironment, choice: DeviceChoice) {
    bootstrapLogging()
    let library = try loadLibrary()
    let environment = try ORTEnvironment.shared(library: library)
    let choice = try DeviceSelector.choose(
      deviceRequest(), availableProviders: library.availableProviders(), gpus: NVML.shared.map { $0.gpus() })
    logger.info("Using device: \(choice.device) (\(choice.reason))")
    for line in try acceleratorPlan(for: choice).fallbacks { logger.warning("\(line)") }
    return (environment, choice)
  }
}

/// `LoggingSystem.bootstrap` may run only once per process.
enum LoggingBootstrap {
  nonisolated(unsafe) private static var done = false
  private static let lock = NSLock()

  static func once(_ body: () -> Void) {
    lock.lock()
    defer { lock.unlock() }
    if !done {
      body()
      done = true
    }
  }
}
