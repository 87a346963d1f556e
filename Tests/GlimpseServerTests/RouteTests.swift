import Foundation
import GlimpseServer
import Hummingbird
import HummingbirdTesting
import Imaging
import ONNXRuntime
import Testing

/// Every route through HummingbirdTesting's router client, on the tiny demo models.
@Suite struct RouteTests {
  @Test func healthAndReadiness() async throws {
    let loading = try ServerState(configuration: ServerConfiguration())
    try await ServerFixture.application(loading).test(.router) { client in
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
      try await client.execute(uri: "/readyz", method: .get) { response in
        #expect(response.status == .serviceUnavailable)
        let error = try ServerFixture.decode(response.body)["error"] as? [String: Any]
        #expect(error?["code"] as? String == "not_ready")
      }
      try await client.execute(
        uri: "/v1/embed", method: .post, headers: .json, body: ServerFixture.json(["texts": ["x"]])
      ) {
        #expect($0.status == .serviceUnavailable, "model routes wait for the models")
      }
    }
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
    }
  }

  /// The image embedding over HTTP equals the Python reference (Pillow + open_clip transforms
  /// + onnxruntime) on the same model file, whichever way the image is sent.
  @Test func embedImagesMatchesThePythonReferenceEachWay() async throws {
    let expected = try NumpyFile.read(
      ServerFixture.images.appendingPathComponent("jpeg_baseline_640x480.embedding.npy")
    ).floatValues()
    let jpeg = try ServerFixture.jpeg
    let (multipart, multipartType) = ServerFixture.multipart([("image", "a.jpg", jpeg)])
    let requests: [(HTTPFields, ByteBuffer)] = [
      (.jpeg, ByteBuffer(bytes: jpeg)),
      ([.contentType: multipartType], multipart),
      (.json, try ServerFixture.json(["images": [jpeg.base64EncodedString()]])),
    ]
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      for (headers, body) in requests {
        try await client.execute(uri: "/v1/embed", method: .post, headers: headers, body: body) { response in
          #expect(response.status == .ok)
          let json = try ServerFixture.decode(response.body)
          #expect(json["model"] as? String == "clip-tiny")
          let embeddings = try #require(json["embeddings"] as? [[Double]])
          #expect(embeddings.count == 1)
          #expect(json["dim"] as? Int == embeddings[0].count)
          #expect(cosine(embeddings[0].map(Float.init), expected) >= 0.9999)
        }
      }
    }
  }

  /// Every answer says where its time went: the body's arrival, decoding, preparation, the
  /// model's queue and run (with the run's size), the JSON encoding, and the whole, in
  /// milliseconds.
  @Test func answersCarryServerTiming() async throws {
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      try await client.execute(
        uri: "/v1/embed", method: .post, headers: .jpeg, body: ByteBuffer(bytes: try ServerFixture.jpeg)
      ) { response in
        #expect(response.status == .ok)
        let timing = try #require(Self.serverTiming(response.headers))
        let names = timing.split(separator: ",").map {
          $0.trimmingCharacters(in: .whitespaces).split(separator: ";")[0]
        }
        #expect(
          names == ["body", "decode", "prepare", "clip-visual-run", "clip-visual", "json", "total"],
          "\(timing)")
        #expect(timing.contains(#"clip-visual-run;dur="#) && timing.contains(#"desc="batch of 1""#))
        let total = try #require(
          timing.split(separator: ",").last?.split(separator: "=").last.flatMap { Double($0) })
        #expect(total > 0)
      }
      try await client.execute(uri: "/healthz", method: .get) { response in
        #expect(Self.serverTiming(response.headers)?.contains("total;dur=") == true)
      }
    }
  }

  static func serverTiming(_ headers: HTTPFields) -> String? {
    headers.first { $0.name.canonicalName == "server-timing" }?.value
  }

  @Test func embedTextsAndClassify() async throws {
    let state = try ServerFixture.readyState()
    let (clip, _) = try ServerFixture.models()
    let direct = try clip.embedTexts(["a red shoe", "a dog"])
    try await ServerFixture.application(state).test(.router) { client in
      try await client.execute(
        uri: "/v1/embed", method: .post, headers: .json,
        body: ServerFixture.json(["texts": ["a red shoe", "a dog"]])
      ) { response in
        let embeddings = try #require(try ServerFixture.decode(response.body)["embeddings"] as? [[Double]])
        #expect(embeddings.count == 2)
        for (got, want) in zip(embeddings, direct) { #expect(cosine(got.map(Float.init), want) >= 0.9999) }
      }
      try await client.execute(
        uri: "/v1/classify?labels=cat,dog,car", method: .post, headers: .jpeg,
        body: ByteBuffer(bytes: ServerFixture.jpeg)
      ) { response in
        #expect(response.status == .ok)
        let labels = try #require(try ServerFixture.decode(response.body)["labels"] as? [[String: Any]])
        #expect(Set(labels.compactMap { $0["label"] as? String }) == ["cat", "dog", "car"])
        let probabilities = labels.compactMap { $0["probability"] as? Double }
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-4)
        #expect(probabilities == probabilities.sorted(by: >), "most probable first")
      }
    }
  }

  @Test func itemsLifecycleAndSearch() async throws {
    let state = try ServerFixture.readyState { $0.apiKeys = ["secret"] }
    let auth: HTTPFields = [.contentType: "application/json", .authorization: "Bearer secret"]
    let jpeg = try ServerFixture.jpeg
    try await ServerFixture.application(state).test(.router) { client in
      // Writes need the key; reads do not.
      try await client.execute(
        uri: "/v1/items", method: .post, headers: .json,
        body: ServerFixture.json(["id": "x", "image": jpeg.base64EncodedString()])
      ) { #expect($0.status == .unauthorized) }
      try await client.execute(
        uri: "/v1/items", method: .post, headers: auth,
        body: ServerFixture.json([
          "id": "photo", "image": jpeg.base64EncodedString(), "metadata": ["brand": "acme"],
          "tags": ["shoes"],
        ])
      ) { response in
        #expect(response.status == .created)
        let item = try ServerFixture.decode(response.body)
        #expect(item["id"] as? String == "photo")
        #expect(item["created_at"] is String)
      }
      try await client.execute(
        uri: "/v1/items", method: .post, headers: auth,
        body: ServerFixture.json(["id": "photo", "image": jpeg.base64EncodedString()])
      ) { #expect($0.status == .conflict) }
      // A multipart item with a precomputed-free image, metadata and tags.
      let (form, formType) = ServerFixture.multipart([
        (
          "image", "b.jpg",
          try ServerFixture.data(ServerFixture.images.appendingPathComponent("png_rgb_500x400.png"))
        ),
        ("id", nil, Data("other".utf8)), ("metadata", nil, Data(#"{"brand": "zeta"}"#.utf8)),
        ("tags", nil, Data("hats".utf8)),
      ])
      try await client.execute(
        uri: "/v1/items", method: .post, headers: [.contentType: formType, .authorization: "Bearer secret"],
        body: form
      ) { #expect($0.status == .created) }
      // Search by the same image finds it first with cosine ≈ 1; a filter narrows.
      try await client.execute(
        uri: "/v1/search?k=5", method: .post, headers: .jpeg, body: ByteBuffer(bytes: jpeg)
      ) {
        response in
        let results = try #require(try ServerFixture.decode(response.body)["results"] as? [[String: Any]])
        #expect(results.first?["id"] as? String == "photo")
        #expect((results.first?["score"] as? Double ?? 0) > 0.9999)
        #expect(results.count == 2)
      }
      try await client.execute(
        uri: "/v1/search", method: .post, headers: .json,
        body: ServerFixture.json(["text": "a hat", "k": 10, "filter": ["metadata": ["brand": "zeta"]]])
      ) { response in
        let results = try #require(try ServerFixture.decode(response.body)["results"] as? [[String: Any]])
        #expect(results.map { $0["id"] as? String } == ["other"])
      }
      try await client.execute(uri: "/v1/items/photo?include=embedding", method: .get) { response in
        let item = try ServerFixture.decode(response.body)
        #expect((item["metadata"] as? [String: Any])?["brand"] as? String == "acme")
        #expect((item["embedding"] as? [Double])?.isEmpty == false)
      }
      try await client.execute(
        uri: "/v1/items/photo", method: .put, headers: auth,
        body: ServerFixture.json([
          "embedding": [Float](repeating: 0.5, count: 64).prefix(try ServerFixture.models().0.dimension).map {
            $0
          }, "metadata": ["brand": "new"],
        ])
      ) { #expect($0.status == .ok) }
      try await client.execute(uri: "/v1/items?limit=1", method: .get) { response in
        let page = try ServerFixture.decode(response.body)
        #expect((page["items"] as? [Any])?.count == 1)
        let cursor = try #require(page["next_cursor"] as? String)
        try await client.execute(uri: "/v1/items?limit=1&cursor=\(cursor)", method: .get) { next in
          let nextPage = try ServerFixture.decode(next.body)
          #expect((nextPage["items"] as? [Any])?.count == 1)
        }
      }
      try await client.execute(uri: "/v1/items/photo", method: .delete, headers: auth) {
        #expect($0.status == .noContent)
      }
      try await client.execute(uri: "/v1/items/photo", method: .get) { #expect($0.status == .notFound) }
      try await client.execute(uri: "/v1/items/photo", method: .delete, headers: auth) {
        #expect($0.status == .notFound)
      }
    }
  }

  /// Adds an image to the catalog through the API.
  static func index(_ image: Data, as id: String, _ client: some TestClientProtocol) async throws {
    try await client.execute(
      uri: "/v1/items", method: .post, headers: .json,
      body: ServerFixture.json(["id": id, "image": image.base64EncodedString()])
    ) { #expect($0.status == .created) }
  }

  @Test func detectWithDistancesAndMatches() async throws {
    let street = try ServerFixture.data(
      ServerFixture.detectionImages.appendingPathComponent("street_1280x720.png"))
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      try await Self.index(street, as: "street", client)
      try await client.execute(
        uri: "/v1/detect?conf=0.05&search=true&k=1&fov_deg=70", method: .post,
        headers: [.contentType: "image/png"],
        body: ByteBuffer(bytes: street)
      ) { response in
        #expect(response.status == .ok)
        let json = try ServerFixture.decode(response.body)
        #expect(json["width"] as? Int == 1280 && json["height"] as? Int == 720)
        let detections = try #require(json["detections"] as? [[String: Any]])
        #expect(!detections.isEmpty, "the demo detector finds boxes at conf 0.05")
        for detection in detections {
          let box = try #require(detection["box"] as? [String: Double])
          #expect(box["x1"]! >= 0 && box["x2"]! <= 1280 && box["x1"]! < box["x2"]!)
          #expect(detection.keys.contains("distance_m"))
        }
        // The 16 most confident objects get catalog matches (crops of the indexed image).
        let searched = detections.prefix(16)
        #expect(
          searched.allSatisfy { ($0["matches"] as? [[String: Any]])?.first?["id"] as? String == "street" })
        #expect(detections.dropFirst(16).allSatisfy { $0["matches"] == nil })
      }
      try await client.execute(
        uri: "/v1/detect?classes=unicorn", method: .post, headers: [.contentType: "image/png"],
        body: ByteBuffer(bytes: street)
      ) { #expect($0.status == .badRequest) }
    }
  }

  /// Requests carrying a `stream_id` are frames of one video: objects carry track ids,
  /// stable over a still scene, and the matches computed when a track was confirmed are
  /// reused (`match_frame`) until due again; another stream has its own tracker.
  @Test func detectTracksAcrossRequestsOfAStream() async throws {
    let street = try ServerFixture.data(
      ServerFixture.detectionImages.appendingPathComponent("street_1280x720.png"))
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      try await Self.index(street, as: "street", client)
      // The demo detector's boxes are weak: scores fused into the matching cost (1 - IoU ×
      // score) would keep them from matching, so plain IoU.
      let settings = "search=true&k=1&conf=0.3&fuse_score=false"
      var answers: [[String: Any]] = []
      for stream in ["cam-1", "cam-1", "cam-1", "cam-2"] {
        try await client.execute(
          uri: "/v1/detect?stream_id=\(stream)&" + settings,
          method: .post, headers: [.contentType: "image/png"], body: ByteBuffer(bytes: street)
        ) { response in
          #expect(response.status == .ok, "\(String(buffer: response.body))")
          answers.append(try ServerFixture.decode(response.body))
        }
      }
      #expect(answers.map { $0["frame"] as? Int } == [1, 2, 3, 1])
      let tracks = answers.map { ($0["detections"] as? [[String: Any]]) ?? [] }
      let ids = tracks.map { Set($0.compactMap { $0["track_id"] as? Int }) }
      #expect(
        !ids[0].isEmpty && ids[0] == ids[1] && ids[1] == ids[2], "the same tracks on a still scene: \(ids)")
      #expect(ids[3] == ids[0], "a new stream numbers its tracks from 1 again")
      try #require(tracks[0].count <= 16, "at most 16 objects searched a frame: all in the first")
      for frame in tracks[1...2] {
        #expect(frame.allSatisfy { ($0["matches"] as? [[String: Any]])?.first?["id"] as? String == "street" })
        #expect(frame.allSatisfy { $0["match_frame"] as? Int == 1 }, "cached since frame 1")
      }
    }
  }

  @Test func hardwareAndMetrics() async throws {
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      try await client.execute(uri: "/v1/hardware", method: .get) { response in
        let json = try ServerFixture.decode(response.body)
        #expect(json["device"] as? String == "cpu")
        #expect(((json["host"] as? [String: Any])?["logical_cores"] as? Int ?? 0) > 0)
      }
      try await client.execute(
        uri: "/v1/embed", method: .post, headers: .json, body: ServerFixture.json(["texts": ["x"]])
      ) {
        #expect($0.status == .ok)
      }
      try await client.execute(uri: "/metrics", method: .get) { response in
        let text = String(buffer: response.body)
        #expect(text.contains(#"http_requests_total{route="/v1/embed",method="POST",status="200"} 1"#))
        #expect(text.contains("http_request_duration_seconds_bucket"))
        #expect(text.contains(#"glimpse_batch_size_count{model="clip-textual"} 1"#))
        #expect(text.contains(#"glimpse_queue_depth{model="clip-textual"} 0"#))
        #expect(text.contains("glimpse_model_run_seconds"))
      }
      try await client.execute(uri: "/", method: .get) { response in
        #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
      }
      try await client.execute(uri: "/openapi.yaml", method: .get) { response in
        #expect(String(buffer: response.body).contains("openapi:"))
      }
    }
  }

  @Test func corsForConfiguredOriginsOnly() async throws {
    let state = try ServerFixture.readyState { $0.corsOrigins = ["https://shop.example"] }
    try await ServerFixture.application(state).test(.router) { client in
      try await client.execute(
        uri: "/v1/search", method: .options,
        headers: [.origin: "https://shop.example", .accessControlRequestMethod: "POST"]
      ) { response in
        #expect(response.status == .noContent)
        #expect(response.headers[.accessControlAllowOrigin] == "https://shop.example")
        #expect(response.headers[.accessControlAllowMethods]?.contains("POST") == true)
      }
      try await client.execute(uri: "/healthz", method: .get, headers: [.origin: "https://shop.example"]) {
        #expect($0.headers[.accessControlAllowOrigin] == "https://shop.example")
      }
      try await client.execute(uri: "/healthz", method: .get, headers: [.origin: "https://evil.example"]) {
        #expect($0.headers[.accessControlAllowOrigin] == nil)
      }
    }
  }

  @Test func aRequestOverTheTimeLimitIs504AndTheServerGoesOn() async throws {
    let state = try ServerFixture.readyState { $0.limits.requestTimeout = .milliseconds(1) }
    let photo = try ServerFixture.data(ServerFixture.images.appendingPathComponent("jpeg_12mp_4000x3000.jpg"))
    try await ServerFixture.application(state).test(.router) { client in
      try await client.execute(
        uri: "/v1/detect", method: .post, headers: .jpeg, body: ByteBuffer(bytes: photo)
      ) {
        response in
        #expect(response.status == .gatewayTimeout)
        #expect(
          (try? ServerFixture.decode(response.body)["error"] as? [String: Any])?["code"] as? String
            == "timeout")
      }
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
    }
  }

  /// Many concurrent requests with different images: each answer equals the unbatched
  /// embedding of its own image, and the server merged them into fewer model runs.
  @Test func dynamicBatchingGivesEachRequestItsOwnAnswer() async throws {
    let state = try ServerFixture.readyState { $0.maxWait = .milliseconds(40) }
    let (clip, _) = try ServerFixture.models()
    let files = try FileManager.default.contentsOfDirectory(atPath: ServerFixture.catalogImages.path)
      .filter { $0.hasSuffix(".jpg") }.sorted().prefix(24)
    let images = try files.map {
      try ServerFixture.data(ServerFixture.catalogImages.appendingPathComponent($0))
    }
    #expect(images.count >= 16)
    let expected = try images.map {
      try clip.embedImages([
        ImageDecoder(options: .init(minimumShortSide: clip.fastDecodeShortSide)).decode($0)
      ])[0]
    }
    try await ServerFixture.application(state).test(.router) { client in
      try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
        for (index, image) in images.enumerated() {
          group.addTask {
            try await client.execute(
              uri: "/v1/embed", method: .post, headers: .jpeg, body: ByteBuffer(bytes: image)
            ) {
              response in
              #expect(response.status == .ok)
              let embeddings = try #require(
                try ServerFixture.decode(response.body)["embeddings"] as? [[Double]])
              return (index, embeddings[0].map(Float.init))
            }
          }
        }
        for try await (index, embedding) in group {
          #expect(
            cosine(embedding, expected[index]) >= 0.9999, "request \(index) got its own image's embedding")
          for other in expected.indices where other != index {
            #expect(cosine(embedding, expected[other]) < cosine(embedding, expected[index]))
          }
        }
      }
      try await client.execute(uri: "/metrics", method: .get) { response in
        let text = String(buffer: response.body)
        let runs = text.split(separator: "\n").first {
          $0.hasPrefix(#"glimpse_batch_size_count{model="clip-visual"}"#)
        }
        let count = runs.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        #expect(count > 0 && count < images.count, "\(images.count) requests ran in \(count) model runs")
      }
    }
  }
}
