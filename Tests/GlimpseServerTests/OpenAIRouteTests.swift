import Foundation
import GlimpseServer
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST /v1/embeddings` and `GET /v1/models`: OpenAI's shapes, the same vectors as
/// `/v1/embed`, and OpenAI's error shape with the right status on bad input.
@Suite struct OpenAIRouteTests {
  /// A JSON request to `uri`, its status and decoded body.
  static func post(_ client: some TestClientProtocol, _ uri: String, _ body: Any) async throws
    -> (HTTPResponse.Status, [String: Any])
  {
    try await client.execute(uri: uri, method: .post, headers: .json, body: ServerFixture.json(body)) {
      ($0.status, try ServerFixture.decode($0.body))
    }
  }

  static func vectors(_ body: [String: Any]) -> [[Float]] {
    (body["embeddings"] as? [[Double]] ?? []).map { $0.map(Float.init) }
  }

  /// `data[].embedding` in index order, decoding base64 as OpenAI's clients do.
  static func openAIVectors(_ body: [String: Any]) -> [[Float]] {
    let items = (body["data"] as? [[String: Any]] ?? []).sorted {
      ($0["index"] as! Int) < ($1["index"] as! Int)
    }
    return items.map { item in
      if let numbers = item["embedding"] as? [Double] { return numbers.map(Float.init) }
      let bytes = Data(base64Encoded: item["embedding"] as? String ?? "") ?? Data()
      return stride(from: 0, to: bytes.count, by: 4).map { offset in
        Float(bitPattern: bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
      }
    }
  }

  @Test func textsMatchEmbedWithTokenUsage() async throws {
    let texts = [
      "a photo of a cat", "two dogs on a beach at sunset", String(repeating: "long text ", count: 60),
    ]
    let clip = try ServerFixture.models().0
    let expectedTokens = try texts.reduce(0) { $0 + (try clip.fedTokenCount($1)) }
    #expect(try clip.fedTokenCount(texts[2]) == clip.contextLength, "a long text counts only what is fed")
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      let (_, reference) = try await Self.post(client, "/v1/embed", ["texts": texts])
      for format in ["float", "base64"] {
        let (status, body) = try await Self.post(
          client, "/v1/embeddings", ["model": "clip-tiny", "input": texts, "encoding_format": format])
        #expect(status == .ok, "\(body)")
        #expect(body["object"] as? String == "list")
        #expect(body["model"] as? String == "clip-tiny")
        let usage = body["usage"] as? [String: Int]
        #expect(usage == ["prompt_tokens": expectedTokens, "total_tokens": expectedTokens])
        let vectors = Self.openAIVectors(body)
        #expect(vectors.count == texts.count)
        for (got, want) in zip(vectors, Self.vectors(reference)) {
          #expect(cosine(got, want) >= 0.99999, "\(format)")
        }
      }
      let (status, one) = try await Self.post(
        client, "/v1/embeddings", ["model": "clip-tiny", "input": texts[0]])
      #expect(status == .ok)
      #expect(cosine(Self.openAIVectors(one)[0], Self.vectors(reference)[0]) >= 0.99999, "a single string")
    }
  }

  @Test func dataURIImagesMatchEmbed() async throws {
    let jpeg = try ServerFixture.jpeg
    let png = try ServerFixture.data(ServerFixture.images.appendingPathComponent("png_gray_240x180.png"))
    let images = [jpeg, png]
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      let (_, reference) = try await Self.post(
        client, "/v1/embed", ["images": images.map { $0.base64EncodedString() }])
      let uris = [
        "data:image/jpeg;base64,\(jpeg.base64EncodedString())",
        "DATA:image/png;BASE64,\(png.base64EncodedString())",
      ]
      let (status, body) = try await Self.post(
        client, "/v1/embeddings",
        ["model": "clip-tiny", "input": uris, "modality": "image", "encoding_format": "base64"])
      #expect(status == .ok, "\(body)")
      #expect((body["usage"] as? [String: Int])?["prompt_tokens"] == 0, "images use no text tokens")
      for (got, want) in zip(Self.openAIVectors(body), Self.vectors(reference)) {
        #expect(cosine(got, want) >= 0.99999)
      }
    }
  }

  @Test func modelsListsTheCLIPModelFirst() async throws {
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      try await client.execute(uri: "/v1/models", method: .get) { response in
        #expect(response.status == .ok)
        let body = try ServerFixture.decode(response.body)
        #expect(body["object"] as? String == "list")
        let first = (body["data"] as? [[String: Any]])?.first
        #expect(first?["id"] as? String == "clip-tiny")
        #expect(first?["object"] as? String == "model")
        #expect(first?["owned_by"] as? String == "glimpse")
        #expect((first?["created"] as? Int ?? 0) > 1_700_000_000)
      }
    }
  }
}

/// Image URLs: fetched only from the hosts `--allow-image-urls` names, within the body
/// limit, following redirects only on the same host. The host is a live server here.
@Suite struct OpenAIImageURLTests {
  /// A host serving a photo, a large file, redirects and a 404.
  static func imageHost(_ jpeg: Data) -> some ApplicationProtocol {
    let router = Router()
    router.get("photo.jpg") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "image/jpeg"], body: .init(byteBuffer: ByteBuffer(bytes: jpeg)))
    }
    router.get("big.jpg") { _, _ in
      Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: 0xFF, count: 300_000)))
    }
    router.get("same-host") { _, _ in Response(status: .found, headers: [.location: "/photo.jpg"]) }
    router.get("other-host") { request, _ in
      Response(status: .found, headers: [.location: "http://localhost:\(request.uri.port ?? 0)/photo.jpg"])
    }
    return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
  }

  @Test func imageURLsFromAllowedHostsOnly() async throws {
    let jpeg = try ServerFixture.jpeg
    let state = try ServerFixture.readyState {
      $0.imageURLHosts = ["127.0.0.1"]
      $0.limits.maxBodyBytes = 200_000
    }
    try await Self.imageHost(jpeg).test(.live) { host in
      let base = "http://127.0.0.1:\(try #require(host.port))"
      try await ServerFixture.application(state).test(.router) { client in
        let (_, reference) = try await OpenAIRouteTests.post(
          client, "/v1/embed", ["images": [jpeg.base64EncodedString()]])
        for (path, status, code) in [
          ("/photo.jpg", 200, nil), ("/same-host", 200, nil), ("/other-host", 400, "image_url_not_allowed"),
          ("/missing", 400, "image_fetch_failed"), ("/big.jpg", 413, "payload_too_large"),
        ] {
          let (got, body) = try await OpenAIRouteTests.post(
            client, "/v1/embeddings", ["model": "clip-tiny", "input": [base + path], "modality": "image"])
          #expect(Int(got.code) == status, "\(path): \(body)")
          if let code {
            #expect((body["error"] as? [String: Any])?["code"] as? String == code, "\(path)")
          } else {
            let cos = cosine(OpenAIRouteTests.openAIVectors(body)[0], OpenAIRouteTests.vectors(reference)[0])
            #expect(cos >= 0.99999, "\(path)")
          }
        }
        let (got, body) = try await OpenAIRouteTests.post(
          client, "/v1/embeddings",
          ["model": "clip-tiny", "input": ["http://localhost:\(host.port!)/photo.jpg"], "modality": "image"])
        #expect(
          got == .badRequest
            && (body["error"] as? [String: Any])?["code"] as? String == "image_url_not_allowed")
      }
    }
  }
}
