import ArgumentParser
import CLIP
import Foundation
import Hardware
import Logging
import ONNXRuntime

/// Which CLIP model to load, at which precision, on which device.
struct CLIPModelOptions: ParsableArguments {
  @Option(name: .customLong("model"), help: "CLIP model folder, Immich layout (env GLIMPSE_CLIP_MODEL).")
  var modelFolder: String?

  @Option(help: "fp32, fp16 or int8 model files (env GLIMPSE_PRECISION; int8 is for CPUs).")
  var precision: String?

  @OptionGroup var runtime: RuntimeOptions

  /// Real weights fetched by `glimpse models fetch`, else the generated demo model.
  static let defaultFolders = ["models/ViT-B-32__openai", "models/test/clip-tiny"]

  func resolvedFolder(logger: Logger) -> URL {
    let environment = ProcessInfo.processInfo.environment
    if let explicit = modelFolder ?? environment["GLIMPSE_CLIP_MODEL"] {
      return URL(fileURLWithPath: explicit)
    }
    let found =
      Self.defaultFolders.first { FileManager.default.fileExists(atPath: $0) } ?? Self.defaultFolders[0]
    if found.hasSuffix("clip-tiny") {
      logger.warning(
        "USING THE TINY RANDOM-WEIGHT DEMO MODEL (models/test/clip-tiny): embeddings are meaningless. Fetch real weights with `glimpse models fetch ViT-B-32__openai` or pass --model."
      )
    }
    return URL(fileURLWithPath: found)
  }

  func resolvedPrecision() throws -> Precision {
    do {
      return try Precision(
        parsing: precision ?? ProcessInfo.processInfo.environment["GLIMPSE_PRECISION"] ?? "fp32")
    } catch {
      throw ValidationError("\(error)")
    }
  }

  /// A logger that honours `--log-level` (logging is set up before the first logger exists).
  func logger(_ label: String) -> Logger {
    runtime.bootstrapLogging()
    return Logger(label: label)
  }

  /// Loads the model on the chosen device, logging the device and the load time.
  func load(logger: Logger) throws -> (CLIPModel, DeviceChoice) {
    let (environment, choice) = try runtime.prepareDevice(logger: logger)
    let start = ContinuousClock.now
    let bundle = try CLIPModelBundle(folder: resolvedFolder(logger: logger), precision: resolvedPrecision())
    let model = try CLIPModel(
      bundle: bundle, environment: environment,
      configuration: runtime.sessionConfiguration(for: choice, precision: bundle.precision), logger: logger)
    logger.info("CLIP \(bundle.name) (\(bundle.precision)) loaded in \(start.duration(to: .now))")
    return (model, choice)
  }
}
