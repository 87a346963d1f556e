import Foundation
import Testing

@testable import Detection

/// The pinhole distance model: `distance = realHeight × focalPx / boxHeightPx`.
@Suite struct DistanceTests {
  static func person(top: Float, bottom: Float) -> Detection {
    Detection(
      box: BoundingBox(x1: 100, y1: top, x2: 160, y2: bottom), confidence: 0.9, classIndex: 0,
      label: "person")
  }

  /// The worked example of docs/detection.md: a 1.7 m person, 200 px tall in a 1280 × 720
  /// frame from a camera with a 60° vertical field of view.
  @Test func workedExample() throws {
    let estimator = DistanceEstimator()
    let focal = estimator.focalPixels(imageHeight: 720)
    #expect(abs(focal - 623.538) < 1e-3)  // 360 / tan(30°)
    let metres = try #require(estimator.distance(to: Self.person(top: 300, bottom: 500), imageHeight: 720))
    #expect(abs(metres - 5.300) < 1e-3)  // 1.7 × 623.538 / 200
  }

  @Test func givenFocalLength() throws {
    let estimator = DistanceEstimator(focal: .pixels(1000))
    let metres = try #require(estimator.distance(to: Self.person(top: 100, bottom: 440), imageHeight: 720))
    #expect(abs(metres - 5.0) < 1e-9)  // 1.7 × 1000 / 340
  }

  @Test func distanceIsInverselyProportionalToBoxHeight() throws {
    let estimator = DistanceEstimator()
    let near = try #require(estimator.distance(to: Self.person(top: 100, bottom: 500), imageHeight: 720))
    let far = try #require(estimator.distance(to: Self.person(top: 100, bottom: 300), imageHeight: 720))
    #expect(abs(far / near - 2) < 1e-9)
  }

  @Test func clampedToTheUsefulRange() throws {
    let estimator = DistanceEstimator()
    // 2 px tall: 1.7 × 623.5 / 2 = 530 m, reported as 30.
    #expect(estimator.distance(to: Self.person(top: 300, bottom: 302), imageHeight: 720) == 30)
    // A wide-angle focal of 100 px and a 700 px box: 0.24 m, reported as 0.5.
    let wide = DistanceEstimator(focal: .pixels(100))
    #expect(wide.distance(to: Self.person(top: 5, bottom: 705), imageHeight: 720) == 0.5)
  }

  @Test func noEstimateWhenTheObjectIsCutOrUnknown() {
    let estimator = DistanceEstimator()
    #expect(estimator.distance(to: Self.person(top: 0, bottom: 400), imageHeight: 720) == nil)
    #expect(estimator.distance(to: Self.person(top: 100, bottom: 720), imageHeight: 720) == nil)
    var kite = Self.person(top: 100, bottom: 200)
    kite.label = "kite"
    #expect(estimator.distance(to: kite, imageHeight: 720) == nil)
  }

  @Test func tableCoversTheCommonClassesWithPlausibleHeights() {
    for name in ["person", "car", "bicycle", "bus", "truck", "dog", "chair", "stop sign"] {
      #expect(TypicalHeights.coco[name] != nil, "\(name)")
    }
    #expect(TypicalHeights.coco.values.allSatisfy { (0.03...6).contains($0) })
  }
}
