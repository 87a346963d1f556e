/// ByteTrack's settings, with Ultralytics' defaults (`cfg/trackers/bytetrack.yaml`).
public struct ByteTrackSettings: Sendable, Equatable {
  /// Detections at or above this score take part in the first association.
  public var trackHighThresh: Double = 0.25
  /// Detections above this (and below the high threshold) take part in the second one.
  public var trackLowThresh: Double = 0.1
  /// An unmatched detection at or above this starts a new track.
  public var newTrackThresh: Double = 0.25
  /// Frames a lost track is kept for re-identification (Ultralytics' `max_frames_lost`).
  public var trackBuffer: Int = 30
  /// Largest matching cost (1 - IoU, or fused with the score) of the first association.
  public var matchThresh: Double = 0.8
  /// Whether the first association multiplies IoU by the detection's score.
  public var fuseScore: Bool = true

  public init() {}
}

/// ByteTrack (Ultralytics' `BYTETracker`): Kalman-predicted tracks are matched first to the
/// confident detections, then the tracks left over to the weak ones (which recovers objects
/// whose score dips while occluded); unconfirmed tracks get a last chance; confident leftovers
/// start tracks. Not thread-safe: one tracker per stream, used by one task at a time.
public final class ByteTracker {
  /// Read at every update: a change applies from the next frame on.
  public var settings: ByteTrackSettings
  public private(set) var frameID = 0
  private var tracked: [Track] = []
  private var lost: [Track] = []
  /// The ids of the last 1000 removed tracks. Ultralytics keeps the tracks, but only
  /// their ids are ever read (to drop them from the lost list), so memory stays small.
  private var removed: [Int] = []
  private var ids = TrackIDCounter()
  private let kalman = KalmanFilterXYAH()

  public init(settings: ByteTrackSettings = ByteTrackSettings()) {
    self.settings = settings
  }

  /// The ids of the tracks the tracker still follows (tracked or lost, confirmed or not):
  /// state kept per track elsewhere can be dropped for the others.
  public var liveTrackIDs: Set<Int> { Set((tracked + lost).map(\.trackID)) }

  /// Tracks the detections of the next frame; returns the confirmed tracks still tracked,
  /// in Ultralytics' order.
  public func update(_ detections: [TrackInput]) -> [TrackedObject] {
    frameID += 1
    var step = Step()
    // Scores are float32 in Ultralytics and NumPy compares them with the thresholds in float32.
    let high = Float(settings.trackHighThresh)
    let low = Float(settings.trackLowThresh)
    // Boxes without area are dropped (the filter divides by the height).
    let indexed = detections.enumerated().filter { $0.element.width > 0 && $0.element.height > 0 }
      .map { Track($0.element, index: $0.offset) }
    let strong = indexed.filter { $0.score >= high }
    let weak = indexed.filter { $0.score > low && $0.score < high }

    let unconfirmed = tracked.filter { !$0.isActivated }
    let pool = Self.joined(tracked.filter(\.isActivated), lost)
    for track in pool { predict(track) }

    let first = LinearAssignment.solve(
      cost: distances(pool, strong), rows: pool.count, columns: strong.count, thresh: settings.matchThresh)
    apply(first.matches.map { (pool[$0.row], strong[$0.column]) }, to: &step)

    let remaining = first.unmatchedRows.map { pool[$0] }.filter { $0.state == .tracked }
    let second = LinearAssignment.solve(
      cost: Self.iouDistance(remaining, weak), rows: remaining.count, columns: weak.count, thresh: 0.5)
    apply(second.matches.map { (remaining[$0.row], weak[$0.column]) }, to: &step)
    for row in second.unmatchedRows where remaining[row].state != .lost {
      remaining[row].state = .lost
      step.lost.append(remaining[row])
    }

    let leftover = first.unmatchedColumns.map { strong[$0] }
    let unmatched = associate(unconfirmed, leftover, step: &step)
    startTracks(unmatched, step: &step)
    finish(step)
    return tracked.filter(\.isActivated).map(\.result)
  }

  /// The tracks changed in one update, merged into the tracker's lists at its end.
  private struct Step {
    var activated: [Track] = []
    var refound: [Track] = []
    var lost: [Track] = []
    var removed: [Track] = []
  }

  private func predict(_ track: Track) {
    var state = track.filter!
    // A track not currently seen does not keep growing or shrinking.
    if track.state != .tracked { state.mean[7] = 0 }
    track.filter = kalman.predict(state)
  }

  private func apply(_ pairs: [(Track, Track)], to step: inout Step) {
    for (track, detection) in pairs {
      if track.state == .tracked {
        track.update(detection, frame: frameID, kalman: kalman)
        step.activated.append(track)
      } else {
        track.update(detection, frame: frameID, kalman: kalman, refound: true)
        step.refound.append(track)
      }
    }
  }

  /// Tracks seen in one frame only get one more chance with the confident detections left;
  /// those not matched now are removed. Returns the detections still unmatched.
  private func associate(_ unconfirmed: [Track], _ leftover: [Track], step: inout Step) -> [Track] {
    let third = LinearAssignment.solve(
      cost: distances(unconfirmed, leftover), rows: unconfirmed.count, columns: leftover.count, thresh: 0.7)
    for (row, column) in third.matches {
      unconfirmed[row].update(leftover[column], frame: frameID, kalman: kalman)
      step.activated.append(unconfirmed[row])
    }
    for row in third.unmatchedRows {
      unconfirmed[row].state = .removed
      step.removed.append(unconfirmed[row])
    }
    return third.unmatchedColumns.map { leftover[$0] }
  }

  private func startTracks(_ candidates: [Track], step: inout Step) {
    for track in candidates where track.score >= Float(settings.newTrackThresh) {
      track.activate(kalman, frame: frameID, ids: &ids)
      step.activated.append(track)
    }
  }

  /// Ultralytics' step 5: lost tracks expire, then the lists are merged and de-duplicated.
  private func finish(_ step: Step) {
    var removedNow = step.removed
    for track in lost where frameID - track.endFrame > settings.trackBuffer {
      track.state = .removed
      removedNow.append(track)
    }
    tracked = Self.joined(Self.joined(tracked.filter { $0.state == .tracked }, step.activated), step.refound)
    lost = Self.subtracted(lost, tracked) + step.lost
    let removedIDs = Set(removed)
    lost = lost.filter { !removedIDs.contains($0.trackID) }
    (tracked, lost) = Self.withoutDuplicates(tracked, lost)
    removed += removedNow.map(\.trackID)
    if removed.count > 1000 { removed = Array(removed.suffix(1000)) }
  }

  /// The first association's costs: IoU distance, fused with the detection scores when set.
  private func distances(_ tracks: [Track], _ detections: [Track]) -> [Float] {
    let costs = Self.iouDistance(tracks, detections)
    guard settings.fuseScore, !costs.isEmpty else { return costs }
    // 1 - IoU × score, in float32 as Ultralytics' `fuse_score`.
    return costs.enumerated().map { 1 - (1 - $0.element) * detections[$0.offset % detections.count].score }
  }
}

extension ByteTracker {
  /// `a` then the tracks of `b` whose id is not in `a` (Ultralytics' `joint_stracks`).
  static func joined(_ a: [Track], _ b: [Track]) -> [Track] {
    let ids = Set(a.map(\.trackID))
    return a + b.filter { !ids.contains($0.trackID) }
  }

  /// The tracks of `a` whose id is not in `b` (Ultralytics' `sub_stracks`).
  static func subtracted(_ a: [Track], _ b: [Track]) -> [Track] {
    let ids = Set(b.map(\.trackID))
    return a.filter { !ids.contains($0.trackID) }
  }

  /// Of a tracked and a lost track that overlap (IoU above 0.85), the younger one is dropped
  /// (Ultralytics' `remove_duplicate_stracks`).
  static func withoutDuplicates(_ a: [Track], _ b: [Track]) -> ([Track], [Track]) {
    let distances = iouDistance(a, b)
    var dropA = Set<Int>()
    var dropB = Set<Int>()
    for p in a.indices {
      for q in b.indices where distances[p * b.count + q] < 0.15 {
        let ageP = a[p].frameID - a[p].startFrame
        let ageQ = b[q].frameID - b[q].startFrame
        if ageP > ageQ { dropB.insert(q) } else { dropA.insert(p) }
      }
    }
    return (
      a.indices.filter { !dropA.contains($0) }.map { a[$0] },
      b.indices.filter { !dropB.contains($0) }.map { b[$0] }
    )
  }

  /// 1 - IoU between every box of `a` and of `b` (row-major), in float32 as Ultralytics'
  /// `iou_distance` over `bbox_ioa`.
  static func iouDistance(_ a: [Track], _ b: [Track]) -> [Float] {
    let boxesA = a.map { $0.xyxy.map { Float($0) } }
    let boxesB = b.map { $0.xyxy.map { Float($0) } }
    var costs = [Float](repeating: 1, count: a.count * b.count)
    for (i, p) in boxesA.enumerated() {
      let areaP = (p[2] - p[0]) * (p[3] - p[1])
      for (j, q) in boxesB.enumerated() {
        let width = max(min(p[2], q[2]) - max(p[0], q[0]), 0)
        let height = max(min(p[3], q[3]) - max(p[1], q[1]), 0)
        let intersection = width * height
        let union = (q[2] - q[0]) * (q[3] - q[1]) + areaP - intersection
        costs[i * b.count + j] = 1 - intersection / (union + 1e-7)
      }
    }
    return costs
  }
}
