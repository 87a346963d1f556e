import Foundation
import Services

/// The trackers of detect requests that carry a `stream_id`: one per stream, so that a
/// client posting the frames of a video one request at a time gets track ids and per-track
/// matches as on the AR stream.
///
/// Bounded: at most `capacity` streams (the least recently used is dropped to make room) and
/// a stream unused for `idleExpiry` is forgotten (its next request starts a new tracker, ids
/// from 1 again). A tracker holds its tracked and lost tracks (about 1 KB each with their
/// cached matches) and the ids of its last 1000 removed tracks, so with a few dozen objects
/// in view a stream costs tens of kilobytes (the worst case, 300 boxes a frame all tracked and
/// lost, is about 10 MB: docs/ar.md).
/// `@unchecked Sendable`: `entries` is read and changed only under `lock`; the rest is constant.
final class StreamTrackers: @unchecked Sendable {
  struct Entry {
    var tracker: StreamTracker
    var frames = 0
    var lastUsed: ContinuousClock.Instant
  }

  let capacity: Int
  let idleExpiry: Duration
  private let lock = NSLock()
  private var entries: [String: Entry] = [:]

  init(capacity: Int = 64, idleExpiry: Duration = .seconds(60)) {
    self.capacity = capacity
    self.idleExpiry = idleExpiry
  }

  /// The stream's tracker with `fields` applied, and the number of this frame in the stream
  /// (1 for a new stream).
  func next(_ id: String, fields: TrackingFields, now: ContinuousClock.Instant = .now) throws -> StreamFrame {
    try Self.validate(id)
    return try lock.withLock {
      entries = entries.filter { now - $0.value.lastUsed < idleExpiry }
      var entry = entries[id] ?? Entry(tracker: StreamTracker(settings: TrackingSettings()), lastUsed: now)
      entry.tracker.settings = try fields.applied(to: entry.tracker.settings)
      if entries[id] == nil, entries.count >= capacity,
        let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key
      {
        entries[oldest] = nil
      }
      entry.frames += 1
      entry.lastUsed = now
      entries[id] = entry
      return StreamFrame(tracker: entry.tracker, frame: entry.frames)
    }
  }

  var count: Int { lock.withLock { entries.count } }

  /// 1 to 128 letters, digits, '.', '_' or '-': an id a client makes up (a UUID, a camera name).
  static func validate(_ id: String) throws {
    let allowed = id.utf8.allSatisfy { byte in
      (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
        || byte == 45 || byte == 46 || byte == 95
    }
    guard (1...128).contains(id.utf8.count), allowed else {
      throw APIError.invalidParameter("'stream_id' must be 1 to 128 letters, digits, '.', '_' or '-'")
    }
  }
}
