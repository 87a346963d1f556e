import Foundation
import Testing

@testable import CLIP
@testable import Tracking

/// The goldens of scripts/make-tracking-goldens: detection sequences and the tracks
/// Ultralytics' BYTETracker made of them.
struct ByteTrackGoldens: Decodable {
  struct Settings: Decodable {
    var track_high_thresh: Double
    var track_low_thresh: Double
    var new_track_thresh: Double
    var track_buffer: Int
    var match_thresh: Double
    var fuse_score: Bool
  }
  struct Frame: Decodable {
    /// cx, cy, w, h, score, class
    var detections: [[Double]]
    /// id, x1, y1, x2, y2, score, class, idx
    var tracks: [[Double]]
  }
  struct Sequence: Decodable {
    var name: String
    var frames: [Frame]
  }
  struct Assignment: Decodable {
    var cost: [[Double]]
    var thresh: Double
    var x: [Int]
    var y: [Int]
  }
  var settings: Settings
  var sequences: [Sequence]
  var assignments: [Assignment]

  static let shared: ByteTrackGoldens = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/bytetrack-goldens.json.gz")
    do {
      return try JSONDecoder().decode(Self.self, from: Gzip.decompress(Data(contentsOf: url)))
    } catch {
      fatalError("\(url.path) unreadable (run scripts/make-tracking-goldens): \(error)")
    }
  }()
}

extension TrackInput {
  init(golden row: [Double]) {
    self.init(
      centerX: Float(row[0]), centerY: Float(row[1]), width: Float(row[2]), height: Float(row[3]),
      score: Float(row[4]), classID: Int(row[5]))
  }
}

@Suite struct ByteTrackGoldenTests {
  static let goldens = ByteTrackGoldens.shared

  @Test func settingsAreUltralyticsDefaults() {
    let ours = ByteTrackSettings()
    let theirs = Self.goldens.settings
    #expect(ours.trackHighThresh == theirs.track_high_thresh)
    #expect(ours.trackLowThresh == theirs.track_low_thresh)
    #expect(ours.newTrackThresh == theirs.new_track_thresh)
    #expect(ours.trackBuffer == theirs.track_buffer)
    #expect(ours.matchThresh == theirs.match_thresh)
    #expect(ours.fuseScore == theirs.fuse_score)
  }

  @Test func enoughSequences() {
    #expect(Self.goldens.sequences.count >= 5)
    #expect(Self.goldens.sequences.allSatisfy { $0.frames.count == 300 })
  }

  /// Ids, classes, scores and detection indices identical frame by frame; boxes within 1e-3.
  @Test(arguments: ByteTrackGoldens.shared.sequences.map(\.name))
  func sameTracksAsUltralytics(_ name: String) throws {
    let sequence = try #require(Self.goldens.sequences.first { $0.name == name })
    let tracker = ByteTracker()
    for (number, frame) in sequence.frames.enumerated() {
      let output = tracker.update(frame.detections.map(TrackInput.init(golden:)))
      let ids = output.map(\.trackID)
      let expectedIDs = frame.tracks.map { Int($0[0]) }
      try #require(ids == expectedIDs, "\(name) frame \(number + 1): ids \(ids), Ultralytics \(expectedIDs)")
      for (track, row) in zip(output, frame.tracks) {
        let box = [track.x1, track.y1, track.x2, track.y2]
        let worst = zip(box, row[1...4]).map { abs($0 - $1) }.max() ?? 0
        try #require(
          worst < 1e-3, "\(name) frame \(number + 1) track \(track.trackID): \(box) vs \(row[1...4])")
        #expect(track.score == Float(row[5]))
        #expect(track.classID == Int(row[6]))
        #expect(track.detectionIndex == Int(row[7]))
      }
    }
  }
}
