import Crypto
import Foundation
import GlimpseClient
import GlimpseServer
import Hummingbird
import HummingbirdTesting
import OpenAPIRuntime
import Testing

/// GlimpseClient against a live in-process server on a real socket: every call of the typed
/// layer, the AR stream under a burst, errors as `GlimpseClientError`, and the generated code
/// in step with the spec.
@Suite(.serialized) struct GlimpseClientTests {
  /// A live server over the demo models and a client of it.
  static func withClient(
    apiKey: String? = nil, _ configure: @escaping (inout ServerConfiguration) -> Void = { _ in },
    _ body: @escaping @Sendable (GlimpseClient) async throws -> Void
  ) async throws {
    try await ServerFixture.application(ServerFixture.readyState(configure)).test(.live) { client in
      let url = URL(string: "http://127.0.0.1:\(try #require(client.port))")!
      try await body(GlimpseClient(serverURL: url, apiKey: apiKey))
    }
  }

  @Test func embeddingsMatchTheModel() async throws {
    let (clip, _) = try ServerFixture.models()
    let jpeg = try ServerFixture.jpeg
    let png = try ServerFixture.data(ServerFixture.images.appendingPathComponent("png_gray_240x180.png"))
    try await Self.withClient { glimpse in
      let texts = try await glimpse.embed(texts: ["a red car", "a dog"])
      for (got, want) in zip(texts, try clip.embedTexts(["a red car", "a dog"])) {
        #expect(cosine(got, want) >= 0.99999)
      }
      // The raw-body image path (JPEG and PNG by their bytes) against the JSON base64 path.
      for image in [jpeg, png] {
        let raw = try await glimpse.embed(image: image)
        let viaJSON = try await glimpse.raw.embed(
          body: .json(.case1(.init(images: [Base64EncodedData(image)]))))
        let reference = try viaJSON.ok.body.json.embeddings[0].map(Float.init)
        #expect(raw.count == clip.dimension && cosine(raw, reference) >= 0.99999)
      }
    }
  }

  @Test func itemsSearchAndDetect() async throws {
    let jpeg = try ServerFixture.jpeg
    let other = try ServerFixture.data(ServerFixture.images.appendingPathComponent("png_gray_240x180.png"))
    try await Self.withClient { glimpse in
      let metadata = try GlimpseMetadata(unvalidatedValue: ["brand": "acme"])
      let created = try await glimpse.createItem(
        id: "photo", image: jpeg, metadata: metadata, tags: ["shoes"])
      #expect(created.id == "photo" && created.tags == ["shoes"])
      _ = try await glimpse.createItem(embedding: try await glimpse.embed(image: other), tags: ["other"])
      let stored = try await glimpse.item(id: "photo", includeEmbedding: true)
      let embedding = try await glimpse.embed(image: jpeg)
      #expect(cosine(stored.embedding?.map(Float.init) ?? [], embedding) >= 0.99999)
      #expect(try await glimpse.items(limit: 10).items.count == 2)
      let results = try await glimpse.search(image: jpeg, k: 2)
      #expect(results.first?.id == "photo" && (results.first?.score ?? 0) > 0.9999)
      let filtered = try await glimpse.search(image: jpeg, k: 2, filter: .init(tags: ["other"]))
      #expect(filtered.count == 1 && filtered.first?.id != "photo", "the filter reaches the server")
      #expect(try await glimpse.search(text: "a photo", k: 5).count == 2)
      #expect(try await glimpse.thumbnail(id: "photo").starts(with: [0xFF, 0xD8]), "a JPEG")
      let replaced = try await glimpse.replaceItem(id: "photo", image: other, tags: ["boots"])
      #expect(replaced.tags == ["boots"] && replaced.createdAt == created.createdAt)
      let detections = try await glimpse.detect(image: jpeg, confidence: 0.01, fovDegrees: 60, searchK: 1)
      #expect(detections.width == 640 && detections.height == 480)
      // The server searches the crops of the 16 most confident detections.
      let searched = detections.detections.sorted { $0.confidence > $1.confidence }.prefix(16)
      #expect(!searched.isEmpty && searched.allSatisfy { $0.matches?.count == 1 }, "searchK asks for matches")
      try await glimpse.deleteItem(id: "photo")
      await #expect(throws: GlimpseClientError.self) { try await glimpse.item(id: "photo") }
    }
  }

  @Test func errorsAreTypedWithTheServersCodeAndMessage() async throws {
    let jpeg = try ServerFixture.jpeg
    try await Self.withClient { glimpse in
      let notAnImage = await #expect(throws: GlimpseClientError.self) {
        try await glimpse.embed(image: Data("not an image".utf8))
      }
      #expect(notAnImage?.status == 400 && notAnImage?.code == "invalid_image")
      let missing = await #expect(throws: GlimpseClientError.self) { try await glimpse.item(id: "absent") }
      #expect(
        missing?.status == 404 && missing?.code == "not_found" && missing?.message.contains("absent") == true)
      _ = try await glimpse.createItem(id: "taken", image: jpeg)
      let conflict = await #expect(throws: GlimpseClientError.self) {
        try await glimpse.createItem(id: "taken", image: jpeg)
      }
      #expect(conflict?.status == 409 && conflict?.code == "conflict")
    }
    try await Self.withClient(apiKey: "wrong", { $0.apiKeys = ["right"] }) { glimpse in
      let refused = await #expect(throws: GlimpseClientError.self) { try await glimpse.deleteItem(id: "x") }
      #expect(refused?.status == 401 && refused?.code == "unauthorized")
    }
    try await Self.withClient(apiKey: "right", { $0.apiKeys = ["right"] }) { glimpse in
      _ = try await glimpse.createItem(id: "with-key", image: jpeg)
    }
  }
}

extension GlimpseClientTests {
  /// What an AR burst saw: the answers, and the frames sent and replaced on the client.
  struct BurstLog: Sendable {
    var answers: [ARAnswer] = []
    var sent = 0
    var replaced = 0
  }

  /// Offers `count` frames in groups of three (each group at once, 1 ms between groups),
  /// waits for the answer to the last frame sent, then sends a corrupt frame and waits for
  /// its error.
  static func burst(_ stream: ARStream, frame: Data, count: Int) async throws -> BurstLog {
    var log = BurstLog()
    var answers = stream.answers.makeAsyncIterator()
    for index in 0..<count {
      stream.send(frame: frame)
      if index % 3 == 2 { try await Task.sleep(for: .milliseconds(1)) }
    }
    while stream.framesSent + stream.framesReplacedBeforeSending < count {
      try await Task.sleep(for: .milliseconds(5))
    }
    (log.sent, log.replaced) = (stream.framesSent, stream.framesReplacedBeforeSending)
    while let answer = try await answers.next() {
      log.answers.append(answer)
      if case .detections(let result) = answer, result.frame == log.sent { break }
    }
    stream.send(frame: Data("not a jpeg".utf8))
    while let answer = try await answers.next() {
      log.answers.append(answer)
      if case .error = answer { break }
    }
    return log
  }

  @Test(.timeLimit(.minutes(1))) func arStreamBurstNewestFrameWins() async throws {
    let jpeg = try ServerFixture.jpeg
    try await Self.withClient { glimpse in
      let log = try await glimpse.arStream(settings: ARSettings(conf: 0.05, fovDeg: 60)) { stream in
        try await Self.burst(stream, frame: jpeg, count: 60)
      }
      let answered = log.answers.count - 1
      print(
        "AR burst of 60 frames: \(log.sent) sent, \(log.replaced) replaced on the client, \(answered) answered"
      )
      #expect(log.sent + log.replaced == 60)
      #expect(log.replaced > 0, "frames offered faster than written replace each other")
      #expect(log.sent >= 5, "the server sees a burst, not one frame")
      let results = log.answers.compactMap { if case .detections(let result) = $0 { result } else { nil } }
      let frames = results.map(\.frame)
      #expect(frames == frames.sorted() && Set(frames).count == frames.count, "in order, once each")
      #expect(frames.last == log.sent, "the newest frame is answered")
      #expect((results.last?.dropped ?? -1) + results.count == log.sent, "answered or dropped by the server")
      #expect(results.allSatisfy { $0.width == 640 && $0.height == 480 })
      guard case .error(let frame, let error) = log.answers.last else {
        Issue.record("no error for the corrupt frame")
        return
      }
      #expect(frame == log.sent + 1 && error.code == "invalid_image", "\(error)")
    }
  }
}

// docs/clients.md quotes this function verbatim (between the markers);
// GlimpseClientTests.theDocsSwiftExampleRuns runs it and checks the quote.
// docs/clients.md example: begin
/// Adds a photo to the catalog, finds the items most like it, and lists what is in it.
func catalogAndSearch(server: URL, photo: Data) async throws -> [String] {
  let glimpse = GlimpseClient(
    serverURL: server, apiKey: ProcessInfo.processInfo.environment["GLIMPSE_API_KEY"])
  let metadata = try GlimpseMetadata(unvalidatedValue: ["brand": "acme"])
  _ = try await glimpse.createItem(id: "boot-42", image: photo, metadata: metadata, tags: ["shoes"])

  let results = try await glimpse.search(image: photo, k: 3, filter: GlimpseFilter(tags: ["shoes"]))
  let objects = try await glimpse.detect(image: photo, fovDegrees: 60)
  for object in objects.detections {
    print(object.label, object.confidence, object.distanceM.map { "\($0) m" } ?? "-")
  }
  do {
    _ = try await glimpse.item(id: "no-such-item")
  } catch let error as GlimpseClientError where error.code == "not_found" {
    print("\(error.status): \(error.message)")  // the server's own code and message
  }
  return results.map(\.id)
}
// docs/clients.md example: end

extension GlimpseClientTests {
  @Test func theDocsSwiftExampleRuns() async throws {
    let jpeg = try ServerFixture.jpeg
    try await ServerFixture.application(ServerFixture.readyState()).test(.live) { client in
      let url = URL(string: "http://127.0.0.1:\(try #require(client.port))")!
      #expect(try await catalogAndSearch(server: url, photo: jpeg) == ["boot-42"])
    }
    let source = try String(contentsOfFile: #filePath, encoding: .utf8)
    let begin = try #require(source.range(of: "// docs/clients.md example: begin\n"))
    let end = try #require(source.range(of: "// docs/clients.md example: end"))
    let example = String(source[begin.upperBound..<end.lowerBound])
    let doc = try String(
      contentsOf: ServerFixture.root.appendingPathComponent("docs/clients.md"), encoding: .utf8)
    #expect(doc.contains("```swift\n" + example + "```"), "docs/clients.md quotes the example verbatim")
  }
}

/// The generated client is in step with the spec: scripts/generate-client records the
/// SHA-256 of docs/openapi.yaml, its config and the files it wrote.
@Suite struct GeneratedClientTests {
  @Test func generatedCodeMatchesTheSpec() throws {
    let generated = ServerFixture.root.appendingPathComponent("Sources/GlimpseClient/Generated")
    let recorded = try String(contentsOf: generated.appendingPathComponent("openapi.sha256"), encoding: .utf8)
    let entries = recorded.split(separator: "\n").map { line in
      line.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
    }
    #expect(entries.count >= 4 && entries.allSatisfy { $0.count == 2 })
    for entry in entries.prefix(2) {
      let path = ServerFixture.root.appendingPathComponent(entry[1])
      #expect(try Self.sha256(path) == entry[0], "\(entry[1]) changed: run scripts/generate-client")
    }
    for entry in entries.dropFirst(2) {
      let path = generated.appendingPathComponent(entry[1])
      #expect(
        try Self.sha256(path) == entry[0],
        "Generated/\(entry[1]) was edited by hand: run scripts/generate-client")
    }
    let files = try FileManager.default.contentsOfDirectory(atPath: generated.path).filter {
      $0.hasSuffix(".swift")
    }
    #expect(
      Set(files.map { "./" + $0 }) == Set(entries.dropFirst(2).map { $0[1] }),
      "every generated file is recorded")
  }

  static func sha256(_ url: URL) throws -> String {
    SHA256.hash(data: try Data(contentsOf: url)).map { String(format: "%02x", $0) }.joined()
  }
}
