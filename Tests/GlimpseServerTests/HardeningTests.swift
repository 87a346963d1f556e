import Foundation
import GlimpseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The findings of the hardening review (issue 13), each reproduced: the request that used to
/// crash, bypass or exhaust the server, and what it must get now.
@Suite(.serialized) struct HardeningTests {
  /// A PNG whose IHDR declares 4,294,967,295 × 4,294,967,295 pixels: width × height overflowed.
  static let overflowingPNG = Data([
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
  ])

  @Test func anOverflowingPNGHeaderIs413OnEveryImageRoute() async throws {
    let png = Self.overflowingPNG
    let (form, formType) = ServerFixture.multipart([("image", "bomb.png", png)])
    let requests: [(String, HTTPFields, ByteBuffer)] = [
      ("/v1/embed", [.contentType: "image/png"], ByteBuffer(bytes: png)),
      ("/v1/detect", [.contentType: "image/png"], ByteBuffer(bytes: png)),
      ("/v1/search", [.contentType: "image/png"], ByteBuffer(bytes: png)),
      ("/v1/classify?labels=a,b", [.contentType: "image/png"], ByteBuffer(bytes: png)),
      ("/v1/embed", [.contentType: formType], form),
      ("/v1/search", .json, try ServerFixture.json(["image": png.base64EncodedString()])),
    ]
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      for (uri, headers, body) in requests {
        try await client.execute(uri: uri, method: .post, headers: headers, body: body) { response in
          #expect(response.status == .contentTooLarge, "\(uri): \(String(buffer: response.body))")
        }
      }
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
    }
  }

  /// Every route × method × spelling of its path, with and without a key, on a server whose
  /// reads need a key too: without the key nothing but the public routes answers 2xx.
  @Test func noPathSpellingSkipsTheAPIKey() async throws {
    let state = try ServerFixture.readyState {
      $0.apiKeys = ["secret"]
      $0.requireKeyForReads = true
    }
    let dimension = try ServerFixture.models().0.dimension
    let body = try ServerFixture.json(["id": "x", "embedding": [Float](repeating: 0.1, count: dimension)])
    let protected: [(HTTPRequest.Method, String)] = [
      (.post, "/v1/items"), (.get, "/v1/items"), (.get, "/v1/items/x"), (.put, "/v1/items/x"),
      (.delete, "/v1/items/x"), (.post, "/v1/embed"), (.post, "/v1/search"), (.post, "/v1/detect"),
      (.post, "/v1/classify"), (.get, "/v1/hardware"), (.get, "/metrics"),
    ]
    let spellings: [@Sendable (String) -> String] = [
      { $0 }, { "/" + $0 }, { "//" + $0 }, { $0.replacingOccurrences(of: "/v1/", with: "/v1//") },
      { $0.replacingOccurrences(of: "/v1/", with: "/v1/./") },
      { $0.replacingOccurrences(of: "/v1/", with: "/v1/items/../") },
      { $0.replacingOccurrences(of: "/v1/", with: "/v1%2F") },
      { $0.replacingOccurrences(of: "/v1/", with: "/V1/") },
      { $0 + "/" }, { $0 + "?key=secret" },
    ]
    try await ServerFixture.application(state).test(.router) { client in
      for (method, path) in protected {
        for spell in spellings {
          let uri = spell(path)
          try await client.execute(uri: uri, method: method, headers: .json, body: body) { response in
            #expect(
              [.unauthorized, .badRequest, .notFound, .methodNotAllowed].contains(response.status),
              "\(method) \(uri) without a key: \(response.status)")
          }
        }
      }
      var authorized = HTTPFields.json
      authorized[.authorization] = "Bearer secret"
      try await client.execute(uri: "/v1/items", method: .post, headers: authorized, body: body) {
        #expect($0.status == .created, "the canonical spelling works with the key")
      }
      try await client.execute(uri: "//v1/items/x", method: .delete, headers: authorized) {
        #expect($0.status == .badRequest, "non-canonical paths are refused even with a key")
      }
      for path in ["/healthz", "/readyz", "/", "/openapi.yaml"] {
        try await client.execute(uri: path, method: .get) {
          #expect($0.status == .ok, "\(path) stays public")
        }
      }
    }
  }

  @Test func keyScopesAndReadsThatNeedAKey() async throws {
    let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent(
      "keys-\(UUID().uuidString).txt")
    let lines = [
      APIKey(name: "reader", scope: .read, plainText: "r-key").fileLine,
      APIKey(name: "writer", scope: .write, plainText: "w-key").fileLine,
    ]
    try (["# test keys"] + lines).joined(separator: "\n").write(
      to: keyFile, atomically: true, encoding: .utf8)
    let state = try ServerFixture.readyState {
      $0.apiKeyFile = keyFile.path
      $0.requireKeyForReads = true
    }
    let body = try ServerFixture.json([
      "id": "y", "embedding": [Float](repeating: 0.1, count: try ServerFixture.models().0.dimension),
    ])
    @Sendable func headers(_ key: String?) -> HTTPFields {
      var fields = HTTPFields.json
      if let key { fields[HTTPField.Name("X-API-Key")!] = key }
      return fields
    }
    try await ServerFixture.application(state).test(.router) { client in
      try await client.execute(uri: "/v1/items", method: .get) { #expect($0.status == .unauthorized) }
      try await client.execute(uri: "/v1/items", method: .get, headers: headers("wrong")) {
        #expect($0.status == .unauthorized)
      }
      try await client.execute(uri: "/v1/items", method: .get, headers: headers("r-key")) {
        #expect($0.status == .ok)
      }
      try await client.execute(uri: "/v1/items", method: .post, headers: headers("r-key"), body: body) {
        #expect($0.status == .forbidden, "a read key cannot write")
      }
      try await client.execute(uri: "/v1/items", method: .post, headers: headers("w-key"), body: body) {
        #expect($0.status == .created)
      }
      try await client.execute(uri: "/healthz", method: .get) {
        #expect($0.status == .ok, "health stays open")
      }
    }
  }

  /// `--a` repeated 400,000 times with boundary `a` stalled the server for 22 s.
  @Test func multipartBombsAreRefusedQuickly() async throws {
    let repeated = ByteBuffer(bytes: Array(String(repeating: "--a", count: 400_000).utf8))
    var manyParts = ""
    for index in 0..<2000 {
      manyParts += "--b\r\nContent-Disposition: form-data; name=\"f\(index)\"\r\n\r\nx\r\n"
    }
    manyParts += "--b--\r\n"
    let manyPartsBody = ByteBuffer(string: manyParts)
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      for (body, type) in [
        (repeated, "multipart/form-data; boundary=a"), (manyPartsBody, "multipart/form-data; boundary=b"),
      ] {
        let started = ContinuousClock.now
        try await client.execute(uri: "/v1/embed", method: .post, headers: [.contentType: type], body: body) {
          #expect($0.status == .badRequest, "\(String(buffer: $0.body))")
        }
        #expect(started.duration(to: .now) < .seconds(2))
      }
    }
  }

  @Test func theTimeLimitAnswers504OnTime() async throws {
    let state = try ServerFixture.readyState { $0.limits.requestTimeout = .milliseconds(1) }
    let image = try ServerFixture.data(ServerFixture.images.appendingPathComponent("jpeg_12mp_4000x3000.jpg"))
    try await ServerFixture.application(state).test(.router) { client in
      // A full-size 12 MP decode and detection take far longer than 1 ms.
      let started = ContinuousClock.now
      try await client.execute(
        uri: "/v1/detect", method: .post, headers: .jpeg, body: ByteBuffer(bytes: image)
      ) {
        #expect($0.status == .gatewayTimeout)
      }
      #expect(started.duration(to: .now) < .seconds(2), "the 504 comes at the limit, not when the work ends")
    }
  }

  @Test func theDecodedPixelBudgetAnswers429() async throws {
    let state = try ServerFixture.readyState { $0.limits.maxInflightMegapixels = 1 }
    let image = try ServerFixture.data(ServerFixture.images.appendingPathComponent("jpeg_12mp_4000x3000.jpg"))
    try await ServerFixture.application(state).test(.router) { client in
      // 12 MP at full size is over a 1 MP budget (CLIP's scaled decode would fit: detect decodes in full).
      try await client.execute(
        uri: "/v1/detect", method: .post, headers: .jpeg, body: ByteBuffer(bytes: image)
      ) {
        #expect($0.status == .tooManyRequests)
        #expect($0.headers[.retryAfter] == "1")
      }
      try await client.execute(
        uri: "/v1/detect", method: .post, headers: .jpeg, body: ByteBuffer(bytes: try ServerFixture.jpeg)
      ) { #expect($0.status == .ok, "a 0.3 MP image fits, and the refused one gave its reservation back") }
    }
  }

  @Test func theRateLimitAnswers429WithRetryAfter() async throws {
    let state = try ServerFixture.readyState { $0.rateLimit = RateLimit(requestsPerSecond: 0.5, burst: 2) }
    try await ServerFixture.application(state).test(.router) { client in
      var statuses: [HTTPResponse.Status] = []
      for _ in 0..<3 {
        try await client.execute(uri: "/v1/items", method: .get) { response in
          statuses.append(response.status)
          if response.status == .tooManyRequests { #expect(response.headers[.retryAfter] == "2") }
        }
      }
      #expect(statuses == [.ok, .ok, .tooManyRequests])
      try await client.execute(uri: "/healthz", method: .get) {
        #expect($0.status == .ok, "probes are exempt")
      }
    }
  }

  @Test func crossSiteWritesFromBrowsersAreRefused() async throws {
    let state = try ServerFixture.readyState { $0.corsOrigins = ["http://good.example"] }
    let (form, type) = ServerFixture.multipart([("image", "a.jpg", try ServerFixture.jpeg)])
    try await ServerFixture.application(state).test(.router) { client in
      for (origin, expected) in [
        ("http://evil.example", HTTPResponse.Status.forbidden), ("http://good.example", .created),
      ] {
        try await client.execute(
          uri: "/v1/items", method: .post, headers: [.contentType: type, .origin: origin], body: form
        ) { #expect($0.status == expected, "\(origin)") }
      }
    }
    // Without --cors-origin, only the server's own origin may write from a page.
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      try await client.execute(
        uri: "/v1/items", method: .post, headers: [.contentType: type, .origin: "http://evil.example"],
        body: form
      ) { #expect($0.status == .forbidden) }
    }
  }

  @Test func internalErrorsShowNoInternals() async throws {
    let (state, catalogPath) = try ServerFixture.readyStateAndCatalog()
    // Another process takes the catalog's table away: every catalog call then fails inside
    // SQLite with a message naming SQL, which must reach the log only.
    let python = Process()
    python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    python.arguments = [
      "python3", "-c",
      "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('ALTER TABLE items RENAME TO gone')",
      catalogPath,
    ]
    try python.run()
    python.waitUntilExit()
    #expect(python.terminationStatus == 0)
    try await ServerFixture.application(state).test(.router) { client in
      try await client.execute(uri: "/v1/items", method: .get) { response in
        #expect(response.status == .internalServerError)
        let message = String(buffer: response.body)
        #expect(message.contains("request id"))
        for detail in ["SQLite", "GRDB", "Error(", ".swift", "/work/", "DatabaseError", "items"] {
          #expect(!message.contains(detail), "\(detail) in \(message)")
        }
      }
    }
  }

  @Test func thePageCarriesSecurityHeaders() async throws {
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      try await client.execute(uri: "/", method: .get) { response in
        let policy = response.headers[.contentSecurityPolicy] ?? ""
        #expect(policy.contains("script-src 'self'"))
        #expect(policy.contains("frame-ancestors 'none'"))
        #expect(!policy.contains("unsafe-inline"))
        #expect(response.headers[.xContentTypeOptions] == "nosniff")
      }
    }
  }
}
