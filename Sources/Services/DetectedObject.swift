import Catalog
import Detection

/// One detected object as the CLI and the server report it: box in the source image's pixels,
/// class, confidence, an estimated distance, and, after detect-then-search, the catalog items
/// most like it. JSON keys are snake_case (`class_id`, `distance_m`); `distance_m` is null when
/// there is no estimate, `matches` absent when no search was asked for. When frames are
/// tracked, `track_id` names the object's track, `distance_m` is smoothed over the track and
/// `matches` may be the track's cached ones, computed at frame `match_frame`.
public struct DetectedObject: Sendable, Equatable, Codable {
  public var box: BoundingBox
  public var label: String
  public var classID: Int
  public var confidence: Float
  public var distanceMetres: Double?
  public var matches: [SearchResult]?
  /// The ByteTrack id, when the frame was tracked.
  public var trackID: Int?
  /// The frame at which `matches` were computed, when they are a track's cached ones.
  public var matchFrame: Int?

  public init(
    box: BoundingBox, label: String, classID: Int, confidence: Float, distanceMetres: Double? = nil,
    matches: [SearchResult]? = nil
  ) {
    self.box = box
    self.label = label
    self.classID = classID
    self.confidence = confidence
    self.distanceMetres = distanceMetres
    self.matches = matches
  }

  public init(_ detection: Detection, distanceMetres: Double?) {
    self.init(
      box: detection.box, label: detection.label, classID: detection.classIndex,
      confidence: detection.confidence,
      distanceMetres: distanceMetres)
  }

  /// The plain detection (for drawing).
  public var detection: Detection {
    Detection(label: label, classIndex: classID, confidence: confidence, box: box)
  }

  enum CodingKeys: String, CodingKey {
    case box, label, confidence, matches
    case classID = "class_id"
    case distanceMetres = "distance_m"
    case trackID = "track_id"
    case matchFrame = "match_frame"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(box, forKey: .box)
    try container.encode(label, forKey: .label)
    try container.encode(classID, forKey: .classID)
    try container.encode(confidence, forKey: .confidence)
    // Written as null rather than left out: clients see that the field exists.
    try container.encode(distanceMetres, forKey: .distanceMetres)
    try container.encodeIfPresent(matches, forKey: .matches)
    try container.encodeIfPresent(trackID, forKey: .trackID)
    try container.encodeIfPresent(matchFrame, forKey: .matchFrame)
  }
}
