import Foundation
import Imaging
import Testing

@testable import Detection

/// Bad images and wrong models give typed, readable errors, never a crash.
@Suite struct BadInputTests {
  @Test func tinyImagesAreRefused() throws {
    let detector = try Fixtures.detector("tiny-coco")
    for (width, height) in [(7, 7), (1, 10_000), (10_000, 1), (4, 300)] {
      #expect(throws: DetectionError.self) { try detector.detect(RGBImage(width: width, height: height)) }
    }
    #expect { try detector.detect(RGBImage(width: 1, height: 10_000)) } throws: {
      "\($0)".contains("at least 8 pixels")
    }
    // 8 × 10 000 is odd but usable: the letterbox keeps one pixel of width.
    #expect(try detector.detect(RGBImage(width: 8, height: 10_000)).count >= 0)
  }

  @Test func corruptDataIsAnError() throws {
    let detector = try Fixtures.detector("tiny-coco")
    let png = try Data(contentsOf: Fixtures.folder.appendingPathComponent("images/small_50x40.png"))
    for data in [Data(), Data("not an image".utf8), png.prefix(100), png.prefix(png.count / 2)] {
      #expect {
        try detector.detect(encoded: data)
      } throws: { error in
        guard case DetectionError.undecodableImage = error else { return false }
        return !"\(error)".isEmpty
      }
    }
  }

  @Test func emptyBatchesAndBadThresholdsAreRefused() throws {
    let detector = try Fixtures.detector("tiny-coco")
    let image = RGBImage(width: 32, height: 32)
    #expect(throws: DetectionError.self) { try detector.detect([RGBImage](), options: DetectionOptions()) }
    #expect(throws: DetectionError.self) {
      try detector.detect(image, options: DetectionOptions(confidenceThreshold: 1.5))
    }
    #expect(throws: DetectionError.self) {
      try detector.detect(image, options: DetectionOptions(maxDetections: 0))
    }
  }

  /// A CLIP visual tower is an image model too, but its output is an embedding.
  @Test func clipModelIsNotADetector() throws {
    let clip = Fixtures.root.appendingPathComponent("models/test/clip-tiny/visual/model.onnx").path
    try #require(FileManager.default.fileExists(atPath: clip), "run scripts/make-test-models")
    #expect {
      try YOLODetector(modelPath: clip, environment: Fixtures.environment())
    } throws: { error in
      guard case DetectionError.unexpectedModel = error else { return false }
      return "\(error)".contains("[batch, 4 + classes, anchors]")
    }
  }

  @Test func missingModelIsAnError() {
    #expect(throws: (any Error).self) {
      try YOLODetector(modelPath: "/nonexistent/model.onnx", environment: Fixtures.environment())
    }
  }

  @Test func classNamesParseFromPythonDictLiterals() throws {
    #expect(try UltralyticsMetadata.parseNames("{0: 'person', 1: 'bicycle'}") == ["person", "bicycle"])
    #expect(try UltralyticsMetadata.parseNames(#"{0: "o'clock", 1: 'a\'b'}"#) == ["o'clock", "a'b"])
    #expect(try UltralyticsMetadata.parseNames("{}") == [])
    #expect(throws: DetectionError.self) { try UltralyticsMetadata.parseNames("{0: 'a', 2: 'b'}") }
    #expect(throws: DetectionError.self) { try UltralyticsMetadata.parseNames("['a', 'b']") }
    #expect(try UltralyticsMetadata.parseImageSize("[640, 480]") == (640, 480))
    #expect(try UltralyticsMetadata.parseImageSize("320") == (320, 320))
  }

  @Test func nonMaxSuppressionSemantics() {
    // Anchors: two overlapping boxes of class 0, one overlapping box of class 1, one too weak.
    let boxes: [[Float]] = [[50, 50, 20, 20], [51, 50, 20, 20], [50, 51, 20, 20], [10, 10, 4, 4]]
    let scores: [[Float]] = [[0.9, 0.1], [0.8, 0.2], [0.1, 0.7], [0.2, 0.1]]
    func run(_ options: DetectionOptions) -> [Candidate] {
      NonMaxSuppression.run(anchors: 4, classes: 2, options: options) { channel, anchor in
        channel < 4 ? boxes[anchor][channel] : scores[anchor][channel - 4]
      }
    }
    #expect(run(DetectionOptions()).map(\.classIndex) == [0, 1])
    #expect(run(DetectionOptions(classAgnostic: true)).count == 1)
    #expect(run(DetectionOptions(iouThreshold: 0.95)).count == 3)
    #expect(run(DetectionOptions(classes: [1])).map(\.confidence) == [0.7])
    #expect(run(DetectionOptions(maxDetections: 1)).count == 1)
    #expect(run(DetectionOptions(confidenceThreshold: 0.15)).count == 3)
  }
}
