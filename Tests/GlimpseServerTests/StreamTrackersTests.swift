import Foundation
import Testing

@testable import GlimpseServer

/// The table of `stream_id` trackers: numbering, bounds, expiry, id rules.
@Suite struct StreamTrackersTests {
  let none = TrackingFields(message: ARStreamSession.SettingsMessage())
  let start = ContinuousClock.now

  @Test func framesAreNumberedPerStream() throws {
    let table = StreamTrackers()
    #expect(try table.next("a", fields: none, now: start).frame == 1)
    #expect(try table.next("a", fields: none, now: start).frame == 2)
    #expect(try table.next("b", fields: none, now: start).frame == 1)
    #expect(try table.next("a", fields: none, now: start).frame == 3)
  }

  @Test func theLeastRecentlyUsedStreamMakesRoom() throws {
    let table = StreamTrackers(capacity: 2)
    _ = try table.next("a", fields: none, now: start)
    _ = try table.next("b", fields: none, now: start + .seconds(1))
    _ = try table.next("a", fields: none, now: start + .seconds(2))
    _ = try table.next("c", fields: none, now: start + .seconds(3))  // drops b
    #expect(table.count == 2)
    #expect(try table.next("a", fields: none, now: start + .seconds(4)).frame == 3)
    #expect(try table.next("b", fields: none, now: start + .seconds(5)).frame == 1, "b started afresh")
  }

  @Test func anIdleStreamIsForgotten() throws {
    let table = StreamTrackers(idleExpiry: .seconds(60))
    _ = try table.next("a", fields: none, now: start)
    #expect(try table.next("a", fields: none, now: start + .seconds(59)).frame == 2)
    #expect(try table.next("a", fields: none, now: start + .seconds(120)).frame == 1)
  }

  @Test func settingsApplyAndBadOnesLeaveTheStreamUntouched() throws {
    let table = StreamTrackers()
    var message = ARStreamSession.SettingsMessage()
    message.match_thresh = 0.5
    let tracker = try table.next("a", fields: TrackingFields(message: message), now: start).tracker
    #expect(tracker.settings.byteTrack.matchThresh == 0.5)
    message.match_thresh = 2
    #expect(throws: APIError.self) {
      try table.next("a", fields: TrackingFields(message: message), now: start)
    }
    #expect(tracker.settings.byteTrack.matchThresh == 0.5)
    #expect(try table.next("a", fields: none, now: start).frame == 2, "the refused request was no frame")
  }

  @Test func streamIDsAreChecked() {
    for id in ["", "a b", "ü", String(repeating: "x", count: 129), "a/b"] {
      #expect(throws: APIError.self, "\(id)") { try StreamTrackers.validate(id) }
    }
    #expect(throws: Never.self) { try StreamTrackers.validate("cam-7_front.2") }
  }
}
