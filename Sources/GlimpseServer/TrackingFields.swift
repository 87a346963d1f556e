import Services
import Tracking

/// The tracking settings a request or an AR settings message may carry, each optional: a
/// present field replaces the current value, after its range is checked.
struct TrackingFields: Sendable {
  static let names: Set<String> = [
    "track", "track_high_thresh", "track_low_thresh", "new_track_thresh", "track_buffer", "match_thresh",
    "fuse_score", "rematch_size_factor", "rematch_frames",
  ]

  var track: Bool?
  var trackHighThresh: Double?
  var trackLowThresh: Double?
  var newTrackThresh: Double?
  var trackBuffer: Int?
  var matchThresh: Double?
  var fuseScore: Bool?
  var rematchSizeFactor: Double?
  var rematchFrames: Int?

  /// From a detect request's query; tracking there is turned on by `stream_id`, not `track`.
  init(query: QueryReader) throws {
    trackHighThresh = try query.double("track_high_thresh")
    trackLowThresh = try query.double("track_low_thresh")
    newTrackThresh = try query.double("new_track_thresh")
    trackBuffer = try query.int("track_buffer", in: Int.min...Int.max)
    matchThresh = try query.double("match_thresh")
    fuseScore = try query.bool("fuse_score")
    rematchSizeFactor = try query.double("rematch_size_factor")
    rematchFrames = try query.int("rematch_frames", in: Int.min...Int.max)
  }

  init(message: ARStreamSession.SettingsMessage) {
    track = message.track
    trackHighThresh = message.track_high_thresh
    trackLowThresh = message.track_low_thresh
    newTrackThresh = message.new_track_thresh
    trackBuffer = message.track_buffer
    matchThresh = message.match_thresh
    fuseScore = message.fuse_score
    rematchSizeFactor = message.rematch_size_factor
    rematchFrames = message.rematch_frames
  }

  /// Whether any tracking field is present.
  var isEmpty: Bool {
    track == nil && trackHighThresh == nil && trackLowThresh == nil && newTrackThresh == nil
      && trackBuffer == nil
      && matchThresh == nil && fuseScore == nil && rematchSizeFactor == nil
      && rematchFrames == nil
  }

  /// `settings` with the present fields applied; every range is checked here.
  func applied(to settings: TrackingSettings) throws -> TrackingSettings {
    var next = settings
    var byteTrack = next.byteTrack
    if let v = try Bounds.check(trackHighThresh, "track_high_thresh", in: 0...1) {
      byteTrack.trackHighThresh = v
    }
    if let v = try Bounds.check(trackLowThresh, "track_low_thresh", in: 0...1) {
      byteTrack.trackLowThresh = v
    }
    if let v = try Bounds.check(newTrackThresh, "new_track_thresh", in: 0...1) {
      byteTrack.newTrackThresh = v
    }
    if let v = try Bounds.check(matchThresh, "match_thresh", in: 0...1) { byteTrack.matchThresh = v }
    if let v = try Self.checked(trackBuffer, "track_buffer", in: 0...10_000) { byteTrack.trackBuffer = v }
    if let fuseScore { byteTrack.fuseScore = fuseScore }
    guard byteTrack.trackLowThresh <= byteTrack.trackHighThresh else {
      throw APIError.invalidParameter(
        "'track_low_thresh' (\(byteTrack.trackLowThresh)) must not exceed 'track_high_thresh' (\(byteTrack.trackHighThresh))"
      )
    }
    next.byteTrack = byteTrack
    if let v = try Bounds.check(rematchSizeFactor, "rematch_size_factor", in: 1...100, open: true) {
      next.rematch.sizeFactor = v
    }
    if let v = try Self.checked(rematchFrames, "rematch_frames", in: 1...1_000_000) {
      next.rematch.frames = v
    }
    return next
  }

  private static func checked(_ value: Int?, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
    guard let value else { return nil }
    guard range.contains(value) else {
      throw APIError.invalidParameter(
        "'\(name)' must be an integer in [\(range.lowerBound), \(range.upperBound)], got \(value)")
    }
    return value
  }
}
