/// One detection given to the tracker: box centre and size in pixels, confidence, class.
public struct TrackInput: Sendable, Equatable {
  public var centerX: Float
  public var centerY: Float
  public var width: Float
  public var height: Float
  public var score: Float
  public var classID: Int

  public init(centerX: Float, centerY: Float, width: Float, height: Float, score: Float, classID: Int) {
    (self.centerX, self.centerY, self.width, self.height) = (centerX, centerY, width, height)
    (self.score, self.classID) = (score, classID)
  }

  /// From corners (x1, y1, x2, y2).
  public init(x1: Float, y1: Float, x2: Float, y2: Float, score: Float, classID: Int) {
    // As Ultralytics' xyxy2xywh, in float32.
    self.init(
      centerX: (x1 + x2) / 2, centerY: (y1 + y2) / 2, width: x2 - x1, height: y2 - y1, score: score,
      classID: classID)
  }
}

/// One confirmed track in a frame's output (Ultralytics' `STrack.result`).
public struct TrackedObject: Sendable, Equatable {
  public var trackID: Int
  /// The filtered box (x1, y1, x2, y2), not the raw detection.
  public var x1: Double
  public var y1: Double
  public var x2: Double
  public var y2: Double
  /// The score and class of the detection last matched.
  public var score: Float
  public var classID: Int
  /// Index of that detection in the frame's input, as Ultralytics' `idx`. A track that was
  /// not matched in this frame keeps the index of its last match (Ultralytics does too), so
  /// compare `frameID` to the frame to know whether it was seen.
  public var detectionIndex: Int
  /// The last frame in which a detection was matched to the track.
  public var lastSeenFrame: Int
}

/// A track's life stage (Ultralytics' `TrackState`).
enum TrackState: Sendable {
  case new, tracked, lost, removed
}

/// One tracklet (Ultralytics' `STrack`), a reference: the tracker's lists share tracks.
final class Track {
  var trackID = 0
  var isActivated = false
  var state = TrackState.new
  var score: Float
  var classID: Int
  var index: Int
  var trackletLength = 0
  var frameID = 0
  var startFrame = 0
  /// The detection's box (x1, y1, w, h) in float32, used until the filter starts.
  let detectionBox: [Float]
  var filter: KalmanFilterXYAH.State?

  init(_ input: TrackInput, index: Int) {
    // xywh2ltwh in float32, as NumPy does on Ultralytics' float32 boxes.
    detectionBox = [
      input.centerX - input.width / 2, input.centerY - input.height / 2, input.width, input.height,
    ]
    score = input.score
    classID = input.classID
    self.index = index
  }

  var endFrame: Int { frameID }

  /// The box (x1, y1, x2, y2): the filter's mean, or before the filter starts the
  /// detection's, added up in Float as NumPy does on its float32 array.
  var xyxy: [Double] {
    guard let filter else {
      let b = detectionBox
      return [b[0], b[1], b[0] + b[2], b[1] + b[3]].map(Double.init)
    }
    let m = filter.mean
    let w = m[2] * m[3]
    let (x1, y1) = (m[0] - w / 2, m[1] - m[3] / 2)
    return [x1, y1, x1 + w, y1 + m[3]]
  }

  /// (centre x, centre y, aspect w/h, h) of the detection's box, in float32.
  var measurement: [Float] {
    let b = detectionBox
    return [b[0] + b[2] / 2, b[1] + b[3] / 2, b[2] / b[3], b[3]]
  }

  func activate(_ kalman: KalmanFilterXYAH, frame: Int, ids: inout TrackIDCounter) {
    trackID = ids.next()
    filter = kalman.initiate(measurement)
    trackletLength = 0
    state = .tracked
    if frame == 1 { isActivated = true }
    frameID = frame
    startFrame = frame
  }

  /// Corrects the filter with a matched detection; a re-found track restarts its length.
  func update(_ detection: Track, frame: Int, kalman: KalmanFilterXYAH, refound: Bool = false) {
    frameID = frame
    trackletLength = refound ? 0 : trackletLength + 1
    filter = kalman.update(filter!, measurement: detection.measurement)
    state = .tracked
    isActivated = true
    score = detection.score
    classID = detection.classID
    index = detection.index
  }

  var result: TrackedObject {
    let b = xyxy
    return TrackedObject(
      trackID: trackID, x1: b[0], y1: b[1], x2: b[2], y2: b[3], score: score, classID: classID,
      detectionIndex: index, lastSeenFrame: frameID)
  }
}

/// The track id counter, one per tracker as in Ultralytics (`BYTETracker._ids`): ids start
/// at 1 on every stream.
struct TrackIDCounter: Sendable {
  private(set) var last = 0
  mutating func next() -> Int {
    last += 1
    return last
  }
}
