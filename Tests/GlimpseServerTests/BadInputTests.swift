import Foundation
import GlimpseServer
import Hummingbird
import HummingbirdTesting
import Testing

/// Bad input on every route gets the right status and the JSON error shape, and the server
/// stays healthy afterwards.
@Suite struct BadInputTests {
  struct Case: CustomStringConvertible {
    var name: String
    var method: HTTPRequest.Method
    var uri: String
    var headers: HTTPFields
    var body: ByteBuffer?
    var status: HTTPResponse.Status
    var code: String?
    var description: String { name }
  }

  static func cases() throws -> [Case] {
    let jpeg = try ServerFixture.jpeg
    let truncated = ByteBuffer(bytes: jpeg.prefix(jpeg.count / 3))
    let text = ByteBuffer(string: "hello")
    var cases: [Case] = []
    for route in ["/v1/embed", "/v1/search", "/v1/detect", "/v1/classify?labels=a,b", "/v1/items"] {
      cases += [
        Case(
          name: "\(route) wrong content type", method: .post, uri: route,
          headers: [.contentType: "text/plain"], body: text, status: .unsupportedMediaType,
          code: "unsupported_media_type"),
        Case(
          name: "\(route) no content type", method: .post, uri: route, headers: [:], body: text,
          status: .unsupportedMediaType, code: "unsupported_media_type"),
        Case(
          name: "\(route) empty body", method: .post, uri: route, headers: .json, body: nil,
          status: .badRequest, code: "bad_request"),
        Case(
          name: "\(route) malformed JSON", method: .post, uri: route, headers: .json,
          body: ByteBuffer(string: #"{"texts": ["#),
          status: .badRequest, code: "invalid_json"),
        Case(
          name: "\(route) unknown field", method: .post, uri: route, headers: .json,
          body: ByteBuffer(string: #"{"bogus": 1}"#),
          status: .unprocessableContent, code: "unprocessable"),
      ]
      if route != "/v1/items" {
        cases += [
          Case(
            name: "\(route) corrupt image", method: .post, uri: route, headers: .jpeg, body: truncated,
            status: .badRequest, code: "invalid_image"),
          Case(
            name: "\(route) not an image", method: .post, uri: route, headers: .jpeg, body: text,
            status: .badRequest, code: "invalid_image"),
        ]
      }
    }
    cases += [
      Case(
        name: "k = 0", method: .post, uri: "/v1/search", headers: .json,
        body: try ServerFixture.json(["text": "x", "k": 0]), status: .badRequest, code: "invalid_parameter"),
      Case(
        name: "k = 1,000,000", method: .post, uri: "/v1/search", headers: .json,
        body: try ServerFixture.json(["text": "x", "k": 1_000_000]), status: .badRequest,
        code: "invalid_parameter"),
      Case(
        name: "k as a query of an image search", method: .post, uri: "/v1/search?k=1000000", headers: .jpeg,
        body: ByteBuffer(bytes: jpeg), status: .badRequest, code: "invalid_parameter"),
      Case(
        name: "k of the wrong type", method: .post, uri: "/v1/search", headers: .json,
        body: ByteBuffer(string: #"{"text": "x", "k": "ten"}"#), status: .unprocessableContent,
        code: "unprocessable"),
      Case(
        name: "unknown filter field", method: .post, uri: "/v1/search", headers: .json,
        body: try ServerFixture.json(["text": "x", "filter": ["metadata": ["nope": 1]]]), status: .badRequest,
        code: "bad_request"),
      Case(
        name: "both text and image", method: .post, uri: "/v1/search", headers: .json,
        body: try ServerFixture.json(["text": "x", "embedding": [1]]), status: .badRequest,
        code: "bad_request"),
      Case(
        name: "JSON array instead of object", method: .post, uri: "/v1/embed", headers: .json,
        body: ByteBuffer(string: "[1, 2]"), status: .unprocessableContent, code: "unprocessable"),
      Case(
        name: "too many texts", method: .post, uri: "/v1/embed", headers: .json,
        body: try ServerFixture.json(["texts": Array(repeating: "x", count: 33)]), status: .contentTooLarge,
        code: "payload_too_large"),
      Case(
        name: "too long a text", method: .post, uri: "/v1/embed", headers: .json,
        body: try ServerFixture.json(["texts": [String(repeating: "a", count: 1001)]]), status: .badRequest,
        code: "bad_request"),
      Case(
        name: "bad base64", method: .post, uri: "/v1/embed", headers: .json,
        body: try ServerFixture.json(["images": ["%%%"]]), status: .badRequest, code: "bad_request"),
      Case(
        name: "wrong embedding dimension", method: .post, uri: "/v1/items", headers: .json,
        body: try ServerFixture.json(["embedding": [1, 2, 3]]), status: .badRequest, code: "bad_request"),
      Case(
        name: "NaN-free but zero embedding", method: .post, uri: "/v1/items", headers: .json,
        body: try ServerFixture.json([
          "embedding": [Float](repeating: 0, count: try ServerFixture.models().0.dimension)
        ]), status: .badRequest, code: "bad_request"),
      Case(
        name: "metadata not an object", method: .post, uri: "/v1/items", headers: .json,
        body: ByteBuffer(string: #"{"embedding": [1], "metadata": [1]}"#), status: .unprocessableContent,
        code: "unprocessable"),
      Case(
        name: "multipart without image", method: .post, uri: "/v1/embed",
        headers: [.contentType: "multipart/form-data; boundary=x"],
        body: ByteBuffer(
          string: "--x\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhi\r\n--x--\r\n"),
        status: .badRequest, code: "bad_request"),
      Case(
        name: "multipart without boundary", method: .post, uri: "/v1/embed",
        headers: [.contentType: "multipart/form-data"], body: text, status: .badRequest, code: "bad_request"),
      Case(
        name: "conf out of range", method: .post, uri: "/v1/detect?conf=2", headers: .jpeg,
        body: ByteBuffer(bytes: jpeg), status: .badRequest, code: "invalid_parameter"),
      Case(
        name: "fov of 0", method: .post, uri: "/v1/detect?fov_deg=0", headers: .jpeg,
        body: ByteBuffer(bytes: jpeg), status: .badRequest, code: "invalid_parameter"),
      Case(
        name: "tracking setting without stream_id", method: .post, uri: "/v1/detect?match_thresh=0.5",
        headers: .jpeg, body: ByteBuffer(bytes: jpeg), status: .badRequest, code: "invalid_parameter"),
      Case(
        name: "stream_id with a space", method: .post, uri: "/v1/detect?stream_id=a%20b", headers: .jpeg,
        body: ByteBuffer(bytes: jpeg), status: .badRequest, code: "invalid_parameter"),
      Case(
        name: "track_high_thresh out of range", method: .post,
        uri: "/v1/detect?stream_id=s&track_high_thresh=1.5", headers: .jpeg, body: ByteBuffer(bytes: jpeg),
        status: .badRequest, code: "invalid_parameter"),
      Case(
        name: "track_low_thresh above track_high_thresh", method: .post,
        uri: "/v1/detect?stream_id=s&track_low_thresh=0.5&track_high_thresh=0.3", headers: .jpeg,
        body: ByteBuffer(bytes: jpeg), status: .badRequest, code: "invalid_parameter"),
      Case(
        name: "rematch_size_factor of 1", method: .post, uri: "/v1/detect?stream_id=s&rematch_size_factor=1",
        headers: .jpeg, body: ByteBuffer(bytes: jpeg), status: .badRequest, code: "invalid_parameter"),
      Case(
        name: "rematch_frames of 0", method: .post, uri: "/v1/detect?stream_id=s&rematch_frames=0",
        headers: .jpeg, body: ByteBuffer(bytes: jpeg), status: .badRequest, code: "invalid_parameter"),
      Case(
        name: "limit 0", method: .get, uri: "/v1/items?limit=0", headers: [:], body: nil, status: .badRequest,
        code: "invalid_parameter"),
      Case(
        name: "unknown key inside a filter", method: .post, uri: "/v1/search", headers: .json,
        body: try ServerFixture.json(["text": "x", "filter": ["tag": ["x"]]]), status: .unprocessableContent,
        code: "unprocessable"),
      Case(
        name: "unknown include", method: .get, uri: "/v1/items/x?include=everything", headers: [:], body: nil,
        status: .badRequest, code: "invalid_parameter"),
      Case(
        name: "plain GET of the WebSocket route", method: .get, uri: "/v1/ar/stream", headers: [:], body: nil,
        status: .badRequest, code: "bad_request"),
      Case(
        name: "unknown route", method: .get, uri: "/v2/nothing", headers: [:], body: nil, status: .notFound,
        code: "not_found"),
      Case(
        name: "classify without labels", method: .post, uri: "/v1/classify", headers: .jpeg,
        body: ByteBuffer(bytes: jpeg), status: .badRequest, code: "bad_request"),
    ]
    return cases
  }

  @Test func everyRouteAnswersBadInputWithAJSONError() async throws {
    let cases = try Self.cases()
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      for testCase in cases {
        try await client.execute(
          uri: testCase.uri, method: testCase.method, headers: testCase.headers, body: testCase.body
        ) {
          response in
          #expect(response.status == testCase.status, "\(testCase): \(String(buffer: response.body))")
          let error = try? ServerFixture.decode(response.body)["error"] as? [String: Any]
          #expect(error?["message"] is String, "\(testCase) answers the JSON error shape")
          if let code = testCase.code { #expect(error?["code"] as? String == code, "\(testCase)") }
        }
      }
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
      try await client.execute(
        uri: "/v1/embed", method: .post, headers: .json, body: ServerFixture.json(["texts": ["ok"]])
      ) {
        #expect($0.status == .ok, "still serving after the bad requests")
      }
    }
  }

  @Test func oversizedBodiesAndImagesAre413() async throws {
    let smallBodies = try ServerFixture.readyState { $0.limits.maxBodyBytes = 64 * 1024 }
    try await ServerFixture.application(smallBodies).test(.router) { client in
      try await client.execute(
        uri: "/v1/embed", method: .post, headers: .jpeg, body: ByteBuffer(repeating: 0xFF, count: 200 * 1024)
      ) { response in
        #expect(response.status == .contentTooLarge)
        #expect(
          (try? ServerFixture.decode(response.body)["error"] as? [String: Any])?["code"] as? String
            == "payload_too_large")
      }
    }
    let smallImages = try ServerFixture.readyState { $0.limits.maxPixels = 100_000 }
    try await ServerFixture.application(smallImages).test(.router) { client in
      // 640×480 = 307,200 pixels > 100,000: refused from the header, before decoding.
      try await client.execute(
        uri: "/v1/embed", method: .post, headers: .jpeg, body: ByteBuffer(bytes: ServerFixture.jpeg)
      ) {
        response in
        #expect(response.status == .contentTooLarge)
        #expect(
          (try? ServerFixture.decode(response.body)["error"] as? [String: Any])?["code"] as? String
            == "payload_too_large")
      }
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
    }
  }

  @Test func aWrongMethodIs405WithAllow() async throws {
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      for (method, uri, allow) in [
        (HTTPRequest.Method.get, "/v1/detect", "POST"), (.delete, "/readyz", "GET, HEAD"),
        (.post, "/v1/items/abc", "GET, HEAD, PUT, DELETE"),
      ] {
        try await client.execute(uri: uri, method: method) { response in
          #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
          #expect(response.headers[.allow] == allow)
        }
      }
    }
  }

  /// The batch limit is one rule with one answer (413 `payload_too_large`), whichever route
  /// and payload trips it.
  @Test func theBatchLimitIsOne413Everywhere() async throws {
    let state = try ServerFixture.readyState { $0.limits.maxBatch = 2 }
    let jpeg = try ServerFixture.jpeg.base64EncodedString()
    let requests: [(String, ByteBuffer)] = [
      ("/v1/embed", try ServerFixture.json(["texts": ["a", "b", "c"]])),
      ("/v1/embed", try ServerFixture.json(["images": [jpeg, jpeg, jpeg]])),
      ("/v1/classify", try ServerFixture.json(["image": jpeg, "labels": ["a", "b", "c"]])),
      ("/v1/embeddings", try ServerFixture.json(["model": "clip-tiny", "input": ["a", "b", "c"]])),
    ]
    try await ServerFixture.application(state).test(.router) { client in
      for (uri, body) in requests {
        try await client.execute(uri: uri, method: .post, headers: .json, body: body) {
          #expect($0.status == .contentTooLarge, "\(uri)")
          #expect(String(buffer: $0.body).contains("payload_too_large"))
        }
      }
    }
  }

  @Test func aFullQueueAnswers429WithRetryAfter() async throws {
    let state = try ServerFixture.readyState {
      $0.limits.queueLength = 1
      $0.limits.maxBatch = 1
      $0.maxWait = .zero
    }
    let image = try ServerFixture.data(ServerFixture.images.appendingPathComponent("jpeg_12mp_4000x3000.jpg"))
    try await ServerFixture.application(state).test(.router) { client in
      let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
        for _ in 0..<12 {
          group.addTask {
            try await client.execute(
              uri: "/v1/detect", method: .post, headers: .jpeg, body: ByteBuffer(bytes: image)
            ) {
              ($0.status, $0.headers[.retryAfter])
            }
          }
        }
        return try await group.reduce(into: []) { $0.append($1) }
      }
      #expect(statuses.contains { $0.0 == .ok })
      let refused = statuses.filter { $0.0 == .tooManyRequests }
      #expect(
        !refused.isEmpty, "12 concurrent 12 MP detections overflow a queue of 1: \(statuses.map(\.0.code))")
      #expect(refused.allSatisfy { $0.1 == "1" })
      #expect(statuses.allSatisfy { $0.0 == .ok || $0.0 == .tooManyRequests })
    }
  }
}
