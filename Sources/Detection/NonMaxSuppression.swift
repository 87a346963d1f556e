/// Settings of detection post-processing, with Ultralytics' predictor defaults.
public struct DetectionOptions: Sendable, Equatable {
  /// Minimum class score; a box is kept when its best class scores strictly above it.
  public var confidenceThreshold: Float = 0.25
  /// Boxes overlapping a better one by more than this IoU are dropped. A Double: torchvision
  /// compares its float32 IoU with the double threshold (while the confidence threshold is
  /// cast to float32 by the tensor comparison).
  public var iouThreshold: Double = 0.7
  /// Suppress across classes (one box per object whatever its class) instead of per class.
  public var classAgnostic: Bool = false
  /// Most detections returned per image (`max_det`).
  public var maxDetections: Int = 300
  /// Most candidates entering NMS, best first (`max_nms`).
  public var maxCandidates: Int = 30_000
  /// Only these class indices, when set (`classes`).
  public var classes: Set<Int>? = nil

  public init(
    confidenceThreshold: Float = 0.25, iouThreshold: Double = 0.7, classAgnostic: Bool = false,
    maxDetections: Int = 300, classes: Set<Int>? = nil
  ) {
    self.confidenceThreshold = confidenceThreshold
    self.iouThreshold = iouThreshold
    self.classAgnostic = classAgnostic
    self.maxDetections = maxDetections
    self.classes = classes
  }

  /// The range of both thresholds: the one rule that the detector, the server's `conf` and
  /// `iou` (for `/v1/detect` and the AR stream alike) and the CLI's `--conf` and `--iou` check.
  public static let thresholdRange: ClosedRange<Double> = 0...1

  func validate() throws {
    guard Self.thresholdRange.contains(Double(confidenceThreshold)),
      Self.thresholdRange.contains(iouThreshold)
    else {
      throw DetectionError.invalidRequest(
        "confidence (\(confidenceThreshold)) and IoU (\(iouThreshold)) thresholds must lie in 0…1")
    }
    guard maxDetections > 0, maxCandidates > 0 else {
      throw DetectionError.invalidRequest("max detections and max candidates must be positive")
    }
  }
}

/// One box of the model's output after confidence filtering, in model-input pixels.
public struct Candidate: Sendable, Equatable {
  public var box: BoundingBox
  public var confidence: Float
  public var classIndex: Int
}

/// Ultralytics' `non_max_suppression` for detection heads (utils/nms.py, 8.4), best class per
/// box, followed by torchvision's CPU `nms`, in float32 like the torch tensors.
public enum NonMaxSuppression {
  /// Ultralytics' per-class coordinate offset: boxes of different classes never overlap.
  public static let classOffset: Float = 7680

  /// The kept candidates of one image, best first. `scores(anchor, class)` and `box(anchor)`
  /// read the model's `[4 + classes, anchors]` slice (centre x, centre y, width, height).
  public static func run(
    anchors: Int, classes: Int, options: DetectionOptions,
    value: (_ channel: Int, _ anchor: Int) -> Float
  ) -> [Candidate] {
    var candidates = select(anchors: anchors, classes: classes, options: options, value: value)
    if candidates.count > options.maxCandidates {
      candidates = Array(sortedByConfidence(candidates).prefix(options.maxCandidates))
    }
    let kept = suppress(candidates, options: options)
    return Array(kept.prefix(options.maxDetections))
  }

  /// Anchors whose best class scores above the threshold, in anchor order, as xyxy boxes.
  static func select(
    anchors: Int, classes: Int, options: DetectionOptions, value: (Int, Int) -> Float
  ) -> [Candidate] {
    // The best class of every anchor, class by class: the output is class-major, so this
    // reads it in memory order (anchor by anchor read 80 values 33 KB apart each time).
    var bestScores = [Float](repeating: -.infinity, count: anchors)
    var bestClasses = [Int](repeating: 0, count: anchors)
    for classIndex in 0..<classes {
      for anchor in 0..<anchors {
        let score = value(4 + classIndex, anchor)
        if score > bestScores[anchor] {  // first maximum wins, like torch.max
          bestScores[anchor] = score
          bestClasses[anchor] = classIndex
        }
      }
    }
    var result: [Candidate] = []
    for anchor in 0..<anchors {
      let best = bestScores[anchor]
      let bestClass = bestClasses[anchor]
      guard best > options.confidenceThreshold else { continue }
      if let wanted = options.classes, !wanted.contains(bestClass) { continue }
      // xywh2xyxy: centre ± (size / 2), in float32.
      let centerX = value(0, anchor)
      let centerY = value(1, anchor)
      let halfWidth = value(2, anchor) / 2
      let halfHeight = value(3, anchor) / 2
      let box = BoundingBox(
        x1: centerX - halfWidth, y1: centerY - halfHeight, x2: centerX + halfWidth,
        y2: centerY + halfHeight)
      result.append(Candidate(box: box, confidence: best, classIndex: bestClass))
    }
    return result
  }

  /// Highest confidence first; equal confidences keep their anchor order (a stable sort, as
  /// torchvision's `scores.sort(stable=True, descending=True)`).
  static func sortedByConfidence(_ candidates: [Candidate]) -> [Candidate] {
    candidates.enumerated().sorted { a, b in
      a.element.confidence != b.element.confidence
        ? a.element.confidence > b.element.confidence : a.offset < b.offset
    }.map(\.element)
  }

  /// torchvision's greedy NMS on class-offset boxes: each kept box drops every later box whose
  /// IoU with it exceeds the threshold.
  static func suppress(_ candidates: [Candidate], options: DetectionOptions) -> [Candidate] {
    let ordered = sortedByConfidence(candidates)
    let boxes = ordered.map { candidate -> BoundingBox in
      let offset = options.classAgnostic ? 0 : Float(candidate.classIndex) * classOffset
      let box = candidate.box
      return BoundingBox(x1: box.x1 + offset, y1: box.y1 + offset, x2: box.x2 + offset, y2: box.y2 + offset)
    }
    let areas = boxes.map { ($0.x2 - $0.x1) * ($0.y2 - $0.y1) }
    var suppressed = [Bool](repeating: false, count: ordered.count)
    var kept: [Candidate] = []
    let threshold = options.iouThreshold
    for i in 0..<ordered.count where !suppressed[i] {
      kept.append(ordered[i])
      if kept.count == options.maxDetections { break }  // later boxes could only be dropped
      for j in (i + 1)..<ordered.count where !suppressed[j] {
        let width = max(0, min(boxes[i].x2, boxes[j].x2) - max(boxes[i].x1, boxes[j].x1))
        let height = max(0, min(boxes[i].y2, boxes[j].y2) - max(boxes[i].y1, boxes[j].y1))
        let intersection = width * height
        let overlap = intersection / (areas[i] + areas[j] - intersection)
        if Double(overlap) > threshold { suppressed[j] = true }
      }
    }
    return kept
  }
}
