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
  /// tracks whose match is due (never searched, box size changed past the factor, searched
  /// `rematch.frames` ago, or with another `k`), at most `limit` of them (never-searched
  /// tracks first, then the most confident); the others keep their cached matches.
  public func attachMatches(
    to tracked: [DetectedObject], in image: RGBImage, frame: Int, search: CropSearch, k: Int,
    classes: Set<Int>? = nil, limit: Int = .max
  ) async throws -> [DetectedObject] {
    let due = dueForSearch(tracked, frame: frame, k: k, classes: classes).prefix(limit)
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

  private func dueForSearch(_ tracked: [DetectedObject], frame: Int, k: Int, classes: Set<Int>?) -> [Int] {
    lock.withLock {
      let due = tracked.indices.filter { index in
        let object = tracked[index]
        guard classes?.contains(object.classID) ?? true, let id = object.trackID else { return false }
        guard let state = memory[id], state.matches != nil, state.searchedK == k else { return true }
        return rematch.isDue(
          searchedFrame: state.matchFrame, searchedArea: state.searchedArea, frame: frame,
          area: Double(object.box.width * object.box.height))
      }
      // Tracks never searched first, then the most confident.
      return due.sorted { a, b in
        let (newA, newB) = (tracked[a].matches == nil, tracked[b].matches == nil)
        return newA != newB ? newA : tracked[a].confidence > tracked[b].confidence
      }
    }
  }
}
