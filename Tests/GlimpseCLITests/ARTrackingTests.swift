import Foundation
import HummingbirdWSClient
import Imaging
import Logging
import NIOCore
import Testing

/// The AR stream with tracking against per-frame matching, on the same 300 frames of a camera
/// panning across a street (so every object moves), each frame answered before the next is
/// sent: how many crops CLIP embeds (from /metrics), whether every confirmed track carries a
/// match, and frames per second on this machine's CPU.
///
/// Two 300-frame streams load both cores for a while, so it runs alone, after the suite
/// (scripts/test sets GLIMPSE_AR_STREAM_TEST=1).
@Suite(.serialized) struct ARTrackingTests {
  typealias Server = ServeCommandTests.Server
  static let frames = 300

  /// 640×360 windows of the 1280×720 street photo, sliding right 2 px and bobbing 1–2 px a frame.
  static func panningFrames() throws -> [ByteBuffer] {
    let street = try ImageDecoder().decode(
      Data(contentsOf: CLIRunner.detectionImages.appendingPathComponent("street_1280x720.png")))
    return try (0..<frames).map { t in
      let y = 180 + Int((sin(Double(t) / 7) * 6).rounded())
      let window = street.cropped(x: t * 2, y: y, width: 640, height: 360)
      return ByteBuffer(bytes: try JPEGEncoder.encode(window, quality: 85))
    }
  }

  /// Crops CLIP has embedded so far (the sum of the visual batcher's batch sizes).
  static func embeddings(_ server: Server) async throws -> Double {
    let (metrics, _) = try await server.get("/metrics")
    let line = String(decoding: metrics, as: UTF8.self).split(separator: "\n").first {
      $0.hasPrefix("glimpse_batch_size_sum") && $0.contains("clip-visual")
    }
    return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
  }

  /// Sends the frames one at a time after `settings`; returns the answers and the seconds taken.
  static func stream(_ frames: [ByteBuffer], settings: String, port: Int) async throws -> (
    [[String: Any]], Double
  ) {
    let log = ServeCommandTests.StreamLog()
    let started = ContinuousClock.now
    try await WebSocketClient.connect(
      url: "ws://127.0.0.1:\(port)/v1/ar/stream", configuration: .init(maxFrameSize: 1 << 20),
      logger: Logger(label: "ar-tracking-test")
    ) { inbound, outbound, _ in
      try await outbound.write(.text(settings))
      var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
      for frame in frames {
        try await outbound.write(.binary(frame))
        while let message = try await replies.next() {
          guard case .text(let text) = message else { continue }
          log.append(try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]))
          break
        }
      }
      try await outbound.close(.normalClosure, reason: nil)
    }
    let elapsed = started.duration(to: .now)
    return (
      log.snapshot.0, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    )
  }

  /// A server with the street photo in its catalog.
  static func server() async throws -> Server {
    let server = try Server()
    try await server.waitUntilReady()
    let street = try Data(contentsOf: CLIRunner.detectionImages.appendingPathComponent("street_1280x720.png"))
    _ = try await server.post("/v1/items", json: ["id": "street", "image": street.base64EncodedString()])
    return server
  }

  /// The demo detector's scores lie around 0.05–0.5: 0.3 keeps its firmer boxes.
  static let searchSettings = #""conf": 0.3, "search": true, "k": 1"#

  /// The tracked stream with search against what per-frame matching embeds on the same frames:
  /// the 16 most confident detections of every frame, counted from a detection-only pass
  /// (running per-frame matching itself takes minutes here; `arStreamTrackingBenchmark` does).
  @Test(.enabled(if: ProcessInfo.processInfo.environment["GLIMPSE_AR_STREAM_TEST"] == "1"))
  func arStreamTracksMovingObjectsWithFewerEmbeddings() async throws {
    let server = try await Self.server()
    let frames = try Self.panningFrames()
    let (plain, _) = try await Self.stream(
      frames, settings: #"{"conf": 0.3, "track": false}"#, port: server.port)
    let perFrame = plain.map { min(16, ($0["detections"] as? [Any])?.count ?? 0) }.reduce(0, +)
    let before = try await Self.embeddings(server)
    let (tracked, seconds) = try await Self.stream(
      frames, settings: "{\(Self.searchSettings)}", port: server.port)
    let embeddings = try await Self.embeddings(server) - before
    print(
      "AR stream, \(Self.frames) frames: tracked \(Int(embeddings)) embeddings "
        + "(\(Double(Self.frames) / seconds) frames/s), per-frame matching would embed \(perFrame)")
    #expect(tracked.count == Self.frames && tracked.allSatisfy { $0["error"] == nil })
    let objects = tracked.flatMap { ($0["detections"] as? [[String: Any]]) ?? [] }
    #expect(objects.count > Self.frames, "objects tracked in most frames")
    let unmatched = objects.filter { !($0["track_id"] is Int && ($0["matches"] as? [Any])?.count == 1) }
    #expect(unmatched.isEmpty, "every confirmed track carries a match: \(unmatched.prefix(2))")
    #expect(embeddings * 10 <= Double(perFrame))
    let spread = Self.distanceSpread(tracked: tracked, plain: plain)
    print(
      "AR stream distances over \(spread.tracks) tracks of 30+ frames: RMS frame-to-frame change "
        + "\(spread.raw) m per-frame estimates, \(spread.smoothed) m smoothed")
    #expect(spread.tracks > 0 && spread.smoothed < spread.raw / 2)
    _ = server.terminate()
  }

  /// For each track seen with a distance in 30 frames or more, how much its smoothed
  /// `distance_m` jumps from frame to frame (root mean square of the changes) and how much the
  /// per-frame estimates of the same objects jump (the untracked pass's detection of the same
  /// label overlapping it most, IoU ≥ 0.5, in the same frame), averaged over the tracks. The
  /// camera pans sideways, so the objects' true distances barely change from frame to frame.
  static func distanceSpread(tracked: [[String: Any]], plain: [[String: Any]]) -> (
    raw: Double, smoothed: Double, tracks: Int
  ) {
    var samples: [Int: [(raw: Double, smoothed: Double)]] = [:]
    for (answer, untracked) in zip(tracked, plain) {
      let candidates = (untracked["detections"] as? [[String: Any]]) ?? []
      for object in (answer["detections"] as? [[String: Any]]) ?? [] {
        guard let id = object["track_id"] as? Int, let smoothed = object["distance_m"] as? Double else {
          continue
        }
        let same = candidates.filter { $0["label"] as? String == object["label"] as? String }
        guard let best = same.max(by: { iou($0, object) < iou($1, object) }), iou(best, object) >= 0.5,
          let raw = best["distance_m"] as? Double
        else { continue }
        samples[id, default: []].append((raw, smoothed))
      }
    }
    let long = samples.values.filter { $0.count >= 30 }
    guard !long.isEmpty else { return (0, 0, 0) }
    let mean = { (values: [Double]) in values.reduce(0, +) / Double(long.count) }
    return (
      mean(long.map { jumps($0.map(\.raw)) }), mean(long.map { jumps($0.map(\.smoothed)) }),
      long.count
    )
  }

  static func iou(_ a: [String: Any], _ b: [String: Any]) -> Double {
    guard let p = a["box"] as? [String: Double], let q = b["box"] as? [String: Double] else { return 0 }
    let width = max(0, min(p["x2"]!, q["x2"]!) - max(p["x1"]!, q["x1"]!))
    let height = max(0, min(p["y2"]!, q["y2"]!) - max(p["y1"]!, q["y1"]!))
    let area = { (r: [String: Double]) in (r["x2"]! - r["x1"]!) * (r["y2"]! - r["y1"]!) }
    return width * height / (area(p) + area(q) - width * height)
  }

  static func jumps(_ values: [Double]) -> Double {
    let changes = zip(values.dropFirst(), values).map { ($0 - $1) * ($0 - $1) }
    return (changes.reduce(0, +) / Double(changes.count)).squareRoot()
  }

  /// Frames per second of the AR stream with per-frame matching and with tracking and
  /// per-track matching, same frames (docs/benchmarks.md). Minutes on 2 cores: run by hand,
  /// `GLIMPSE_AR_BENCH=1 swift test --skip-build --filter arStreamTrackingBenchmark`.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["GLIMPSE_AR_BENCH"] == "1"))
  func arStreamTrackingBenchmark() async throws {
    let server = try await Self.server()
    let frames = try Self.panningFrames()
    for (mode, settings) in [
      ("per-frame matching", #"{\#(Self.searchSettings), "track": false}"#),
      ("tracking", "{\(Self.searchSettings)}"),
    ] {
      let before = try await Self.embeddings(server)
      let (answers, seconds) = try await Self.stream(frames, settings: settings, port: server.port)
      let embeddings = try await Self.embeddings(server) - before
      let objects = answers.map { ($0["detections"] as? [Any])?.count ?? 0 }.reduce(0, +)
      print(
        "AR stream bench, \(mode): \(Self.frames) frames in \(seconds) s, \(Double(Self.frames) / seconds) frames/s, "
          + "\(Int(embeddings)) embeddings, \(objects) objects answered")
      #expect(answers.count == Self.frames)
    }
    _ = server.terminate()
  }
}
