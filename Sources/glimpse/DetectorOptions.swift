import ArgumentParser
import Detection
import Foundation
import Hardware
import Logging
import ONNXRuntime

/// Which YOLO detector to load. The flag is `--detector-model` because commands that also
/// load CLIP (`glimpse detect --search`) already have CLIP's `--model`.
struct DetectorOptions: ParsableArguments {
  @Option(
    name: .customLong("detector-model"),
    help: "YOLO detector folder holding model.onnx, or the .onnx file (env GLIMPSE_DETECTOR_MODEL).")
  var modelFolder: String?

  /// Real weights exported by `scripts/export-yolo`, else the generated demo detector.
  static let defaultFolders = ["models/yolov8n", "models/test/yolo-tiny"]

  func load(runtime: RuntimeOptions, logger: Logger) throws -> YOLODetector {
    try Self.load(explicit: modelFolder, runtime: runtime, logger: logger)
  }

  /// Loads the detector named by `explicit`, GLIMPSE_DETECTOR_MODEL or the default folders.
  static func load(explicit: String?, runtime: RuntimeOptions, logger: Logger) throws -> YOLODetector {
    runtime.bootstrapLogging()
    let modelPath = try modelFile(resolvedFolder(explicit: explicit, logger: logger))
    let (environment, choice) = try runtime.prepareDevice(logger: logger)
    let start = ContinuousClock.now
    do {
      let detector = try YOLODetector(
        modelPath: modelPath, environment: environment,
        configuration: runtime.sessionConfiguration(for: choice), logger: logger)
      logger.info(
        "Detector \(modelPath) (\(detector.classCount) classes) loaded in \(start.duration(to: .now))")
      return detector
    } catch let error as DetectionError {
      throw CLIError("\(modelPath): \(error)")
    } catch {
      throw CLIError("cannot load the detector \(modelPath): \(error)")
    }
  }

  static func resolvedFolder(explicit: String?, logger: Logger) -> String {
    if let explicit = explicit ?? ProcessInfo.processInfo.environment["GLIMPSE_DETECTOR_MODEL"] {
      return explicit
    }
    let found = defaultFolders.first { FileManager.default.fileExists(atPath: $0) } ?? defaultFolders[0]
    if found.hasSuffix("yolo-tiny") {
      logger.warning(
        "USING THE TINY RANDOM-WEIGHT DEMO DETECTOR (models/test/yolo-tiny): detections are meaningless. Export real weights to models/yolov8n with `scripts/export-yolo --weights yolov8n.pt --out models/yolov8n` (docs/detection.md) or pass --detector-model."
      )
    }
    return found
  }

  /// `folder/model.onnx`, or the path itself when it names a file; a CLIP folder is told apart.
  static func modelFile(_ path: String) throws -> String {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw CLIError("detector model \(path): no such file or directory")
    }
    guard isDirectory.boolValue else { return path }
    let model = URL(fileURLWithPath: path).appendingPathComponent("model.onnx").path
    if FileManager.default.fileExists(atPath: model) { return model }
    let isCLIP = ["config.json", "visual"].allSatisfy {
      FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).appendingPathComponent($0).path)
    }
    throw CLIError(
      isCLIP
        ? "\(path) is a CLIP model folder (config.json, visual/, textual/), not a YOLO detector: pass a folder holding an Ultralytics model.onnx"
        : "\(path) holds no model.onnx: pass a YOLO detector folder (scripts/export-yolo writes one)")
  }
}
