import Catalog
import Foundation
import HummingbirdWSClient
import Imaging
import Logging
import NIOCore
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `glimpse serve` as a process: start-up, the AR stream's memory, writes during shutdown.
@Suite(.serialized) struct ServeCommandTests {
  /// A `glimpse serve` process on a random port over a fresh catalog.
  final class Server: @unchecked Sendable {
    let running: CLIRunner.Running
    let port: Int
    let folder: URL
    var store: String { folder.appendingPathComponent("catalog.sqlite").path }
    var base: String { "http://127.0.0.1:\(port)" }

    init(folder: URL? = nil, arguments: [String] = []) throws {
      self.folder = try folder ?? CLIRunner.temporaryFolder()
      port = Int.random(in: 20_000..<40_000)
      running = try CLIRunner.Running(
        [
          "serve", "--port", String(port), "--store",
          self.folder.appendingPathComponent("catalog.sqlite").path,
        ]
          + arguments)
    }

    func waitUntilReady(timeout: Duration = .seconds(60)) async throws {
      let deadline = ContinuousClock.now + timeout
      while ContinuousClock.now < deadline {
        if running.process.isRunning == false { break }
        if let (_, status) = try? await get("/readyz"), status == 200 { return }
        try await Task.sleep(for: .milliseconds(20))
      }
      throw ServerError(message: "not ready: \(running.process.isRunning ? "timeout" : "exited")")
    }

    func get(_ path: String) async throws -> (Data, Int) {
      try await send(URLRequest(url: URL(string: base + path)!))
    }

    func post(_ path: String, json: Any, key: String? = nil) async throws -> (Data, Int) {
      var request = URLRequest(url: URL(string: base + path)!)
      request.httpMethod = "POST"
      request.setValue("application/json", forHTTPHeaderField: "Content-Type")
      if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
      request.httpBody = try JSONSerialization.data(withJSONObject: json)
      return try await send(request)
    }

    private func send(_ request: URLRequest) async throws -> (Data, Int) {
      let (data, response) = try await URLSession.shared.data(for: request)
      return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
    }

    /// Resident memory of the server process, from /proc.
    var residentBytes: Int {
      let text =
        (try? String(contentsOfFile: "/proc/\(running.process.processIdentifier)/statm", encoding: .utf8))
        ?? ""
      return (text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0)
        * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func terminate() -> CLIRunner.Result {
      Foundation.kill(running.process.processIdentifier, SIGTERM)
      return running.wait()
    }
  }

  struct ServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
  }

  @Test func servesAndStopsCleanlyOnSIGTERM() async throws {
    let server = try Server()
    try await server.waitUntilReady()
    let (health, status) = try await server.get("/healthz")
    #expect(status == 200 && String(decoding: health, as: UTF8.self).contains("ok"))
    let (hardware, _) = try await server.get("/v1/hardware")
    let json = try JSONSerialization.jsonObject(with: hardware) as? [String: Any]
    let models = json?["models"] as? [[String: Any]] ?? []
    #expect(models.count == 3, "both CLIP towers and the detector")
    #expect(models.map { $0["family"] as? String } == ["CLIP", "CLIP", nil], "the towers name their family")
    let result = server.terminate()
    #expect(result.status == 0, "graceful exit: \(result.stderr.suffix(500))")
  }

  @Test func cudaWithoutAGPUExitsWithTheReason() async throws {
    let server = try Server(arguments: ["--device", "cuda"])
    let result = server.running.wait()
    #expect(result.status != 0)
    #expect(result.stderr.contains("CUDA was requested but cannot be used"), "\(result.stderr.suffix(400))")
  }

  /// The AR stream under overload. A warm-up burst of 40 frames brings the server to its
  /// working set (receiving while processing); then 100 frames of a noisy 12 MP photo (1.6 MB
  /// each) are sent as fast as the socket takes them, each asking for detection plus a
  /// catalog search of every object, far slower than the client sends. The answers are for
  /// the newest frames, in order; the last frame is always answered; and the server's peak
  /// memory during the 100 frames stays within 100 MB of its peak during the warm-up: a queue
  /// would hold up to 160 MB of compressed frames. The peak is a maximum over a noisy process
  /// (one or two decoded 12 MP frames, 36 MB each, may be alive at once): runs on this 2-core
  /// VM saw 14 to 60 MB between the two peaks, so a tighter bound fails on noise.
  ///
  /// It loads both cores for half a minute, so it runs alone, after the suite (scripts/test
  /// sets GLIMPSE_AR_STREAM_TEST=1), where it neither starves nor is starved by other tests.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["GLIMPSE_AR_STREAM_TEST"] == "1"))
  func arStreamAnswersTheNewestFramesWithMemoryFlat() async throws {
    let server = try Server()
    try await server.waitUntilReady()
    let jpeg = try Data(
      contentsOf: CLIRunner.packageRoot.appendingPathComponent(
        "Tests/ImagingTests/Fixtures/generated/jpeg_baseline_640x480.jpg"))
    _ = try await server.post("/v1/items", json: ["id": "catalog-item", "image": jpeg.base64EncodedString()])
    let photo = try Self.noisyPhoto12MP()
    #expect(photo.count > 1_000_000)
    let frame = ByteBuffer(bytes: photo)
    let (warmUp, burst) = (40, 100)
    let log = StreamLog()
    let sampler = Task {
      while !Task.isCancelled {
        log.sampleMemory(server.residentBytes)
        try? await Task.sleep(for: .milliseconds(5))
      }
    }
    try await WebSocketClient.connect(
      url: "ws://127.0.0.1:\(server.port)/v1/ar/stream", configuration: .init(maxFrameSize: 1 << 20),
      logger: Logger(label: "ar-test")
    ) { inbound, outbound, _ in
      // Untracked: every frame is detected and every object searched, the expensive case the
      // drop policy is for (tracking, on by default, caches matches and answers more frames:
      // arStreamTracksMovingObjectsWithFewerEmbeddings).
      try await outbound.write(
        .text(#"{"conf": 0.05, "fov_deg": 65, "search": true, "k": 1, "track": false}"#))
      var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
      func awaitAnswer(to frameNumber: Int) async throws {
        while let message = try await replies.next() {
          guard case .text(let text) = message else { continue }
          let reply = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
          log.append(reply)
          if reply["frame"] as? Int == frameNumber { return }
        }
      }
      for _ in 0..<warmUp { try await outbound.write(.binary(frame)) }
      try await awaitAnswer(to: warmUp)
      log.startBurst()
      for _ in 0..<burst { try await outbound.write(.binary(frame)) }
      try await awaitAnswer(to: warmUp + burst)
      try await outbound.close(.normalClosure, reason: nil)
    }
    sampler.cancel()
    let (replies, warmUpPeak, burstPeak) = log.snapshot
    let frames = replies.compactMap { $0["frame"] as? Int }
    let burstFrames = frames.filter { $0 > warmUp }
    print(
      "AR stream: \(burstFrames.count) of \(burst) burst frames answered, peak memory \(warmUpPeak / 1_000_000) MB warm-up, \(burstPeak / 1_000_000) MB burst"
    )
    #expect(replies.allSatisfy { $0["error"] == nil }, "\(replies.first { $0["error"] != nil } ?? [:])")
    #expect(frames.last == warmUp + burst, "the newest frame is answered")
    #expect(frames == frames.sorted() && Set(frames).count == frames.count, "in order, once each")
    #expect(
      burstFrames.count < burst / 2, "most frames were dropped, not queued: \(burstFrames.count) answered")
    #expect(
      (replies.last?["dropped"] as? Int ?? -1) + frames.count == warmUp + burst,
      "answered or counted as dropped")
    #expect(replies.allSatisfy { $0["width"] as? Int == 4000 && $0["detections"] is [Any] })
    #expect(
      burstPeak - warmUpPeak < 100_000_000,
      "server peak memory \(warmUpPeak / 1_000_000) MB in the warm-up, \(burstPeak / 1_000_000) MB under the burst"
    )
    _ = server.terminate()
  }

  /// What the WebSocket handler and the memory sampler see, shared with the test body.
  final class StreamLog: @unchecked Sendable {
    private let lock = NSLock()
    private var replies: [[String: Any]] = []
    private var inBurst = false
    private var peaks = (warmUp: 0, burst: 0)

    func append(_ reply: [String: Any]) { lock.withLock { replies.append(reply) } }
    func startBurst() { lock.withLock { inBurst = true } }

    func sampleMemory(_ bytes: Int) {
      lock.withLock {
        if inBurst { peaks.burst = max(peaks.burst, bytes) } else { peaks.warmUp = max(peaks.warmUp, bytes) }
      }
    }

    var snapshot: ([[String: Any]], Int, Int) { lock.withLock { (replies, peaks.warmUp, peaks.burst) } }
  }

  /// A 4000×3000 gradient with pseudo-random noise: 12 MP to decode and process, and about
  /// 1.6 MB on the wire, so that a queue of frames would show in memory.
  static func noisyPhoto12MP() throws -> Data {
    var image = RGBImage(width: 4000, height: 3000)
    var seed: UInt32 = 12345
    image.pixels.withUnsafeMutableBufferPointer { pixels in
      for y in 0..<3000 {
        for x in 0..<4000 {
          seed = seed &* 1_664_525 &+ 1_013_904_223
          let offset = (y * 4000 + x) * 3
          pixels[offset] = UInt8(clamping: x * 255 / 3999 + Int(seed >> 26 & 31) - 16)
          pixels[offset + 1] = UInt8(clamping: y * 255 / 2999 + Int(seed >> 21 & 31) - 16)
          pixels[offset + 2] = UInt8(clamping: 128 + Int(seed >> 16 & 31) - 16)
        }
      }
    }
    return try JPEGEncoder.encode(image, quality: 80)
  }

  /// Writes racing a SIGTERM: each one answered 201 is in the catalog afterwards, whole;
  /// the others were refused or never connected; the catalog is intact and reopens.
  @Test func writesDuringShutdownAreCompletedOrRefused() async throws {
    let server = try Server()
    try await server.waitUntilReady()
    let dimension = 16  // the demo CLIP model's
    let accepted = try await withThrowingTaskGroup(of: [String].self) { group in
      for writer in 0..<4 {
        group.addTask {
          var ids: [String] = []
          for index in 0..<2_000 {
            let id = "w\(writer)-\(index)"
            let vector = (0..<dimension).map { Float(($0 + index + writer) % 7) + 1 }
            guard
              let (_, status) = try? await server.post(
                "/v1/items",
                json: ["id": id, "embedding": vector, "metadata": ["writer": writer, "index": index]])
            else { break }  // the server is gone
            if status == 201 {
              ids.append(id)
            } else if status != 503 {
              Issue.record("status \(status) for \(id)")
            }
          }
          return ids
        }
      }
      try await Task.sleep(for: .milliseconds(700))
      _ = server.terminate()
      return try await group.reduce(into: []) { $0 += $1 }
    }
    #expect(!accepted.isEmpty)
    let catalog = try SQLiteCatalog.openExisting(path: server.store)
    for id in accepted {
      let item = try await catalog.get(id: id)
      #expect(item?.metadata["index"] != nil && item?.embedding.count == dimension, "\(id) was answered 201")
    }
    #expect(try await catalog.count() >= accepted.count)
  }
}
