import Detection
import Imaging

/// Detection plus distance estimates: what `glimpse detect` and the server's detect route run
/// on each decoded image.
public struct ObjectDetectionPipeline: Sendable {
  public let detector: YOLODetector
  public var distance: DistanceEstimator

  public init(detector: YOLODetector, distance: DistanceEstimator = DistanceEstimator()) {
    self.detector = detector
    self.distance = distance
  }

  /// Detections in `image`, best first, each with its distance estimate (nil when unknown).
  public func detect(_ image: RGBImage, options: DetectionOptions = DetectionOptions()) throws
    -> [DetectedObject]
  {
    try detector.detect(image, options: options).map { detection in
      DetectedObject(detection, distanceMetres: distance.distance(to: detection, imageHeight: image.height))
    }
  }

  /// Class indices for names or numeric ids ("person", "2"); unknown ones are an error that
  /// lists a few of the model's classes.
  public func classIndices(_ names: [String]) throws -> Set<Int> {
    var indices = Set<Int>()
    for name in names {
      let trimmed = name.trimmingCharacters(in: .whitespaces)
      if let index = Int(trimmed), detector.classNames.indices.contains(index) {
        indices.insert(index)
      } else if let index = detector.classNames.firstIndex(where: { $0.lowercased() == trimmed.lowercased() })
      {
        indices.insert(index)
      } else {
        let known = detector.classNames.prefix(8).joined(separator: ", ")
        throw DetectionError.invalidRequest(
          "unknown class '\(trimmed)': the model has \(detector.classCount) classes (\(known)…)"
            + " or ids 0…\(detector.classCount - 1)")
      }
    }
    return indices
  }
}
