import Catalog
import Detection
import Foundation
import Imaging

/// Object detection as the CLI and the server both run it: detections with distance
/// estimates, optionally tracked over a stream's frames and searched in the catalog (crops
/// embedded by CLIP). The detector runs through the function it is given: the server's
/// batcher, or the model directly on the command line.
public struct ObjectDetectionService: Sendable {
  /// Runs the detector on one image.
  public typealias Detect = @Sendable (RGBImage, DetectionOptions) async throws -> [Detection]

  /// The detector's class names, by class index.
  public let classNames: [String]
  private let detectBoxes: Detect

  /// The detector called directly: one model run per image (the command line).
  public init(detector: YOLODetector) {
    self.init(classNames: detector.classNames) { try detector.detect($0, options: $1) }
  }

  public init(classNames: [String], detect: @escaping Detect) {
    self.classNames = classNames
    detectBoxes = detect
  }

  /// Detections in `image`, best first, each with its distance estimate by `distance` (nil
  /// when unknown).
  public func detect(_ image: RGBImage, options: DetectionOptions, distance: DistanceEstimator) async throws
    -> [DetectedObject]
  {
    try await detectBoxes(image, options).map { detection in
      DetectedObject(detection, distanceMetres: distance.distance(to: detection, imageHeight: image.height))
    }
  }

  /// Detections in `image`; with a stream's tracker, its confirmed tracks for this frame;
  /// with `search`, catalog matches for the objects it selects (a tracker's cached ones,
  /// searched again only when due).
  public func detect(
    _ image: RGBImage, options: DetectionOptions, distance: DistanceEstimator, search: ObjectSearch? = nil,
    stream: StreamFrame? = nil
  ) async throws -> [DetectedObject] {
    var objects = try await detect(image, options: options, distance: distance)
    if let stream { objects = stream.tracker.track(objects, frame: stream.frame) }
    guard let search, !objects.isEmpty else { return objects }
    if let stream {
      return try await stream.tracker.attachMatches(
        to: objects, in: image, frame: stream.frame, search: search.crops, k: search.k,
        classes: search.classes,
        rematchLimit: search.maxObjects)
    }
    return try await search.crops.attachMatches(
      to: objects, in: image, k: search.k, classes: search.classes, limit: search.maxObjects)
  }

  /// Detects the objects in `parent`'s image (decoded at full size) and stores them, embedded
  /// by `crops`, in place of its old object entries (`glimpse index --objects`,
  /// `POST /v1/items?objects=true`); returns the new entries.
  public func replaceObjects(
    of parent: CatalogItem, image: RGBImage, options: DetectionOptions, crops: CropSearch
  ) async throws -> [CatalogItem] {
    let detected = try await detect(image, options: options, distance: DistanceEstimator())
    return try await crops.replaceObjects(of: parent, with: detected, in: image)
  }

  /// Class indices for names or numeric ids ("person", "2"); unknown ones are an error that
  /// lists a few of the model's classes.
  public func classIndices(_ names: [String]) throws -> Set<Int> {
    var indices = Set<Int>()
    for name in names {
      let trimmed = name.trimmingCharacters(in: .whitespaces)
      if let index = Int(trimmed), classNames.indices.contains(index) {
        indices.insert(index)
      } else if let index = classNames.firstIndex(where: { $0.lowercased() == trimmed.lowercased() }) {
        indices.insert(index)
      } else {
        let known = classNames.prefix(8).joined(separator: ", ")
        throw DetectionError.invalidRequest(
          "unknown class '\(trimmed)': the model has \(classNames.count) classes (\(known)…)"
            + " or ids 0…\(classNames.count - 1)")
      }
    }
    return indices
  }
}

/// What detect-then-search looks for: the `k` nearest catalog items of each object whose class
/// is in `classes` (all when nil), for at most `maxObjects` objects (the most confident; while
/// tracking, at most that many tracks searched again per frame, new tracks always searched).
public struct ObjectSearch: Sendable {
  public var crops: CropSearch
  public var k: Int
  public var classes: Set<Int>?
  public var maxObjects: Int

  public init(crops: CropSearch, k: Int, classes: Set<Int>? = nil, maxObjects: Int = .max) {
    self.crops = crops
    self.k = k
    self.classes = classes
    self.maxObjects = maxObjects
  }
}

/// One frame of a tracked stream: its tracker and the frame's number (increasing).
public struct StreamFrame: Sendable {
  public var tracker: StreamTracker
  public var frame: Int

  public init(tracker: StreamTracker, frame: Int) {
    self.tracker = tracker
    self.frame = frame
  }
}

/// One image to detect on, with its request's settings: in a batch, jobs with equal settings
/// share a model run.
public struct DetectionJob: Sendable {
  public var image: RGBImage
  public var options: DetectionOptions

  public init(image: RGBImage, options: DetectionOptions) {
    self.image = image
    self.options = options
  }
}

extension YOLODetector {
  /// Runs a batch of detection jobs (a batcher's run): jobs with the same settings go through
  /// the model together; answers come back in job order.
  public func detect(_ jobs: [DetectionJob]) throws -> [[Detection]] {
    var results = [[Detection]](repeating: [], count: jobs.count)
    var groups: [(options: DetectionOptions, indices: [Int])] = []
    for (index, job) in jobs.enumerated() {
      if let group = groups.firstIndex(where: { $0.options == job.options }) {
        groups[group].indices.append(index)
      } else {
        groups.append((job.options, [index]))
      }
    }
    for group in groups {
      let answers = try detect(group.indices.map { jobs[$0].image }, options: group.options)
      for (index, answer) in zip(group.indices, answers) { results[index] = answer }
    }
    return results
  }
}
