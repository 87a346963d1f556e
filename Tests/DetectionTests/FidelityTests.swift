import Foundation
import Imaging
import Testing

@testable import Detection

/// Detections against Ultralytics' own pipeline (scripts/reference/yolo_detect.py: LetterBox,
/// non_max_suppression, scale_boxes) on the same ONNX files.
@Suite struct FidelityTests {
  /// How far Glimpse's detections of one case are from the golden ones.
  struct Comparison {
    var matched = 0
    var worstIoU: Float = 1
    var worstConfidence: Float = 0
    var problems: [String] = []
  }

  /// Pairs each golden box with an unused detection of the same class and near confidence,
  /// the best-overlapping first (order can differ only between equal confidences).
  static func compare(_ detections: [Detection], _ goldens: [Fixtures.GoldenDetection]) -> Comparison {
    var result = Comparison()
    if detections.count != goldens.count {
      result.problems.append("\(detections.count) detections, \(goldens.count) expected")
    }
    var unused = Array(detections.indices)
    for golden in goldens {
      let candidates = unused.filter {
        detections[$0].classIndex == golden.class
          && abs(detections[$0].confidence - golden.confidence) <= 1e-3
      }
      guard
        let best = candidates.max(by: {
          detections[$0].box.intersectionOverUnion(golden.boundingBox)
            < detections[$1].box.intersectionOverUnion(golden.boundingBox)
        })
      else {
        result.problems.append("no match for \(golden)")
        continue
      }
      unused.removeAll { $0 == best }
      result.matched += 1
      result.worstIoU = min(result.worstIoU, iou(detections[best].box, golden.boundingBox))
      result.worstConfidence = max(
        result.worstConfidence, abs(detections[best].confidence - golden.confidence))
    }
    return result
  }

  /// IoU, with two identical degenerate (zero-area, clipped) boxes counted as a perfect match.
  static func iou(_ a: BoundingBox, _ b: BoundingBox) -> Float {
    if a.area == 0 && b.area == 0 {
      let corners = [a.x1 - b.x1, a.y1 - b.y1, a.x2 - b.x2, a.y2 - b.y2]
      return corners.allSatisfy { abs($0) < 1e-3 } ? 1 : 0
    }
    return a.intersectionOverUnion(b)
  }

  static func check(model name: String) throws {
    try check(
      try Fixtures.detector(name), name: name, cases: try Fixtures.goldens().filter { $0.model == name })
  }

  static func check(_ detector: YOLODetector, name: String, cases: [Fixtures.GoldenCase]) throws {
    #expect(cases.count >= 7)
    var total = Comparison()
    var boxes = 0
    for golden in cases {
      let detections = try detector.detect(Fixtures.image(golden.image), options: golden.options)
      let result = compare(detections, golden.detections)
      #expect(result.problems.isEmpty, "\(golden.image) \(golden.options): \(result.problems)")
      #expect(result.worstIoU >= 0.99, "\(golden.image): IoU \(result.worstIoU)")
      boxes += golden.detections.count
      total.matched += result.matched
      total.worstIoU = min(total.worstIoU, result.worstIoU)
      total.worstConfidence = max(total.worstConfidence, result.worstConfidence)
    }
    print(
      "[fidelity] \(name): \(cases.count) cases, \(total.matched)/\(boxes) boxes matched,"
        + " worst IoU \(total.worstIoU), worst confidence difference \(total.worstConfidence)")
  }

  @Test func tinyCOCOMatchesUltralytics() throws {
    try Self.check(model: "tiny-coco")
  }

  /// The 2-class, float16-input, dynamic-shape export runs through the same code.
  @Test func fp16TwoClassModelMatchesUltralytics() throws {
    let detector = try Fixtures.detector("tiny-2class-fp16")
    #expect(detector.inputType == .float16)
    #expect(detector.classNames == ["widget", "gadget"])
    #expect(detector.acceptsBatches)
    #expect(detector.inputHeight == 64 && detector.inputWidth == 64)
    try Self.check(model: "tiny-2class-fp16")
  }

  /// Every letterboxed pixel equals cv2's (LetterBox → cv2.resize INTER_LINEAR + copyMakeBorder).
  @Test func letterboxIsPixelExact() throws {
    let names = try FileManager.default.contentsOfDirectory(
      atPath: Fixtures.folder.appendingPathComponent("letterboxed").path
    ).sorted()
    #expect(names.count == 7)
    for name in names {
      let image = try Fixtures.image(name)
      let expected = try Fixtures.image(name, in: "letterboxed")
      let letterbox = Letterbox(
        sourceWidth: image.width, sourceHeight: image.height, targetWidth: 96, targetHeight: 96)
      let boxed = letterbox.apply(to: image)
      let differing = zip(boxed.pixels, expected.pixels).filter { $0 != $1 }.count
      #expect(differing == 0, "\(name): \(differing) of \(boxed.pixels.count) bytes differ")
    }
  }

  /// Ultralytics' letterbox arithmetic, including Python's round-half-to-even.
  @Test func letterboxGeometry() {
    let wide = Letterbox(sourceWidth: 1280, sourceHeight: 720, targetWidth: 640, targetHeight: 640)
    #expect(wide.resizedWidth == 640 && wide.resizedHeight == 360 && wide.top == 140 && wide.left == 0)
    // 50 × 40 → 96: r = 1.92, height round(76.8) = 77, padding 9 above and 10 below.
    let small = Letterbox(sourceWidth: 50, sourceHeight: 40, targetWidth: 96, targetHeight: 96)
    #expect(small.resizedWidth == 96 && small.resizedHeight == 77 && small.top == 9 && small.left == 0)
    // A 1 × 3000 strip keeps one pixel of width.
    let strip = Letterbox(sourceWidth: 1, sourceHeight: 3000, targetWidth: 640, targetHeight: 640)
    #expect(strip.resizedWidth == 1 && strip.resizedHeight == 640)
  }

  @Test func batchedEqualsOneByOne() throws {
    let detector = try Fixtures.detector("tiny-2class-fp16")
    let images = try ["street_1280x720.png", "small_50x40.png", "odd_333x517.png"].map {
      try Fixtures.image($0)
    }
    let options = DetectionOptions(confidenceThreshold: 0.05)
    let batched = try detector.detect(images, options: options)
    for (index, image) in images.enumerated() {
      #expect(try detector.detect(image, options: options) == batched[index])
    }
  }
}

/// The full-size random YOLOv8n from `scripts/make-yolo-test-models --full` (12.8 MB, not
/// committed), with Ultralytics' goldens beside it, when present.
@Suite struct FullSizeModelTests {
  static let folder = Fixtures.root.appendingPathComponent("models/yolov8n-random")
  static let path = folder.appendingPathComponent("model.onnx").path
  static let goldens = folder.appendingPathComponent("goldens.json")

  @Test(.enabled(if: FileManager.default.fileExists(atPath: goldens.path)))
  func yolov8nMatchesUltralytics() throws {
    let detector = try YOLODetector(modelPath: Self.path, environment: Fixtures.environment())
    #expect(detector.classCount == 80 && detector.classNames[0] == "person")
    #expect(detector.inputWidth == 640 && detector.inputHeight == 640 && detector.stride == 32)
    try FidelityTests.check(detector, name: "yolov8n-random", cases: try Fixtures.goldens(Self.goldens))
  }
}
