import Detection
import Foundation
import Imaging
import ONNXRuntime

/// Paths and loaders shared by the detection tests. The fixtures are committed
/// (scripts/make-yolo-test-models writes them with Ultralytics), so no test needs torch.
enum Fixtures {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures")
  static let root = folder.deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let libraryPath = root.appendingPathComponent(
    ".deps/onnxruntime/lib/libonnxruntime.so.1.31.1"
  ).path

  static func environment() throws -> ORTEnvironment {
    try ORTEnvironment.shared(library: ORTLibrary.load(explicitPath: libraryPath))
  }

  static func detector(_ name: String) throws -> YOLODetector {
    try YOLODetector(
      modelPath: folder.appendingPathComponent("\(name)/model.onnx").path, environment: environment())
  }

  static func image(_ name: String, in subfolder: String = "images") throws -> RGBImage {
    try ImageDecoder().decode(Data(contentsOf: folder.appendingPathComponent("\(subfolder)/\(name)")))
  }

  struct GoldenFile: Decodable {
    var cases: [GoldenCase]
  }

  struct GoldenCase: Decodable {
    var model: String
    var image: String
    var conf: Float
    var iou: Double
    var classes: [Int]?
    var agnostic: Bool
    var max_det: Int
    var detections: [GoldenDetection]

    var options: DetectionOptions {
      DetectionOptions(
        confidenceThreshold: conf, iouThreshold: iou, classAgnostic: agnostic, maxDetections: max_det,
        classes: classes.map(Set.init))
    }
  }

  struct GoldenDetection: Decodable {
    var box: [Float]
    var confidence: Float
    var `class`: Int

    var boundingBox: BoundingBox { BoundingBox(x1: box[0], y1: box[1], x2: box[2], y2: box[3]) }
  }

  static func goldens(_ file: URL = folder.appendingPathComponent("goldens.json")) throws -> [GoldenCase] {
    try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: file)).cases
  }
}
