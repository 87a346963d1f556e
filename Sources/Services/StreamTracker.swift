import Catalog
import Detection
import Foundation
import Imaging
import Tracking

/// The tracking settings of one stream: ByteTrack's, and when a track's catalog match is
/// computed again.
public struct TrackingSettings: Sendable, Equatable {
  public var byteTrack = ByteTrackSettings()
  public var rematch = RematchPolicy()

  public init(byteTrack: ByteTrackSettings = ByteTrackSettings(), rematch: RematchPolicy = RematchPolicy()) {
    self.byteTrack = byteTrack
    self.rematch = rematch
  }

  /// Ultralytics lowers the detector's threshold to 0.1 when it tracks (`model.track`), so
  /// that the weak boxes of ByteTrack's second association exist; the same default here.
  public static let detectionConfidence: Float = 0.1
}

/// Tracking over the frames of one stream (an AR WebSocket, a `stream_id` of detect requests,
/// a folder of frames): ByteTrack ids, distances smoothed per track, and catalog matches
/// computed once per track and reused until the box changes size or grows old.
///
/// Frames must come in order; the state is guarded by a lock, so concurrent callers are
/// safe but their frames are tracked in the order they take the lock.
public final class StreamTracker: @unchecked Sendable {
  /// What is kept per track besides ByteTrack's own state.
  private struct Memory {
    var smoother = DistanceSmoother()
    var matches: [SearchResult]?
    var matchFrame = 0
    var searchedArea = 0.0
    var searchedK = 0
  }

  private let lock = NSLock()
  private let tracker: ByteTracker
  private var memory: [Int: Memory] = [:]
  /// Embeddings computed (crops searched) since the tracker started.
  public private(set) var searches = 0

  public init(settings: TrackingSettings = TrackingSettings()) {
    tracker = ByteTracker(settings: settings.byteTrack)
    rematch = settings.rematch
  }

  private var rematch: RematchPolicy

  public var settings: TrackingSettings {
    get { lock.withLock { TrackingSettings(byteTrack: tracker.settings, rematch: rematch) } }
    set { lock.withLock { (tracker.settings, rematch) = (newValue.byteTrack, newValue.rematch) } }
  }

  /// The tracked objects of a frame (numbered by the caller, increasing): each confirmed
  /// track with its id, filtered box, the score and class of its detection, the smoothed
  /// distance and the cached matches. Detections not (yet) in a confirmed track are left out,
  /// as Ultralytics' `track` does.
  public func track(_ objects: [DetectedObject], frame: Int) -> [DetectedObject] {
    lock.withLock {
      let inputs = objects.map {
        TrackInput(
          x1: $0.box.x1, y1: $0.box.y1, x2: $0.box.x2, y2: $0.box.y2, score: $0.confidence,
          classID: $0.classID)
      }
      let tracks = tracker.update(inputs)
      let live = tracker.liveTrackIDs
      memory = memory.filter { live.contains($0.key) }
      return tracks.map { track in
        let detection = objects[track.detectionIndex]
        var state = memory[track.trackID] ?? Memory()
        var object = detection
        object.box = BoundingBox(
          x1: Float(track.x1), y1: Float(track.y1), x2: Float(track.x2), y2: Float(track.y2))
        object.confidence = track.score
        object.trackID = track.trackID
        object.distanceMetres = state.smoother.update(detection.distanceMetres, frame: frame)
        object.matches = state.matches
        object.matchFrame = state.matches == nil ? nil : state.matchFrame
        memory[track.trackID] = state
        return object
      }
    }
  }

  /// `tracked` (the output of `track` for the same frame) with matches computed for the
  /// tracks whose match is due: every track never searched (so that each confirmed track has
  /// a match), and at most `rematchLimit` of those searched before whose box changed size past
  /// the factor, whose search is `rematch.frames` old or was for another `k` (the most
  /// confident first; the others wait for the next frames). The rest keep their cached matches.
  public func attachMatches(
    to tracked: [DetectedObject], in image: RGBImage, frame: Int, search: CropSearch, k: Int,
    classes: Set<Int>? = nil, rematchLimit: Int = .max
  ) async throws -> [DetectedObject] {
    let (new, again) = dueForSearch(tracked, frame: frame, k: k, classes: classes)
    let due = new + again.prefix(rematchLimit)
    guard !due.isEmpty else { return tracked }
    let searched = try await search.attachMatches(to: due.map { tracked[$0] }, in: image, k: k)
    var result = tracked
    lock.withLock {
      searches += searched.count
      for (index, object) in zip(due, searched) {
        result[index].matches = object.matches
        result[index].matchFrame = frame
        guard let id = object.trackID, var state = memory[id] else { continue }
        (state.matches, state.matchFrame, state.searchedK) = (object.matches, frame, k)
        state.searchedArea = Double(object.box.width * object.box.height)
        memory[id] = state
      }
    }
    return result
  }

  /// The indices of the tracks never searched, and of those due for another search, most
  /// confident first.
  private func dueForSearch(_ tracked: [DetectedObject], frame: Int, k: Int, classes: Set<Int>?) -> (
    new: [Int], again: [Int]
  ) {
    lock.withLock {
      let candidates = tracked.indices.filter { classes?.contains(tracked[$0].classID) ?? true }
      let new = candidates.filter { tracked[$0].matches == nil }
      let again = candidates.filter { index in
        let object = tracked[index]
        guard object.matches != nil, let id = object.trackID, let state = memory[id] else { return false }
        return state.searchedK != k
          || rematch.isDue(
            searchedFrame: state.matchFrame, searchedArea: state.searchedArea, frame: frame,
            area: Double(object.box.width * object.box.height))
      }
      return (new, again.sorted { tracked[$0].confidence > tracked[$1].confidence })
    }
  }
}
