import Foundation
import GlimpseServer
import Hummingbird
import HummingbirdTesting
import Testing

/// Bad input on the OpenAI-compatible routes: the right status and OpenAI's error shape
/// (`message`, `type`, `code`, `param`, null when no field is at fault); Glimpse's own routes
/// keep their shape.
@Suite struct OpenAIErrorTests {
  struct Case: CustomStringConvertible {
    var name: String
    var body: String
    var status: HTTPResponse.Status
    var code: String
    var param: String?
    var headers: HTTPFields = .json
    var description: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "another model", body: #"{"model": "text-embedding-3-small", "input": "a"}"#, status: .notFound,
      code: "model_not_found", param: "model"),
    Case(
      name: "dimensions", body: #"{"model": "clip-tiny", "input": "a", "dimensions": 7}"#,
      status: .badRequest,
      code: "unsupported_parameter", param: "dimensions"),
    Case(
      name: "token ids", body: #"{"model": "clip-tiny", "input": [[1, 2, 3]]}"#, status: .badRequest,
      code: "invalid_parameter", param: "input"),
    Case(
      name: "an image URL",
      body: #"{"model": "clip-tiny", "input": ["https://example.com/a.jpg"], "modality": "image"}"#,
      status: .badRequest, code: "image_url_not_allowed", param: "input[0]"),
    Case(
      name: "bare base64", body: #"{"model": "clip-tiny", "input": "aGVsbG8=", "modality": "image"}"#,
      status: .badRequest, code: "invalid_image", param: "input[0]"),
    Case(
      name: "a data URI that is no image",
      body: #"{"model": "clip-tiny", "input": "data:image/png;base64,aGVsbG8=", "modality": "image"}"#,
      status: .badRequest, code: "invalid_image", param: nil),
    Case(
      name: "an empty list", body: #"{"model": "clip-tiny", "input": []}"#, status: .badRequest,
      code: "bad_request"),
    Case(
      name: "an empty text", body: #"{"model": "clip-tiny", "input": [""]}"#, status: .badRequest,
      code: "bad_request"),
    Case(
      name: "more inputs than the batch limit", body: #"{"model": "clip-tiny", "input": ["a", "b", "c"]}"#,
      status: .contentTooLarge, code: "payload_too_large"),
    Case(
      name: "an unknown field", body: #"{"model": "clip-tiny", "input": "a", "bogus": 1}"#,
      status: .unprocessableContent, code: "unprocessable"),
    Case(
      name: "an unknown encoding", body: #"{"model": "clip-tiny", "input": "a", "encoding_format": "int8"}"#,
      status: .unprocessableContent, code: "unprocessable"),
    Case(name: "no model", body: #"{"input": "a"}"#, status: .unprocessableContent, code: "unprocessable"),
    Case(name: "malformed JSON", body: #"{"input": "#, status: .badRequest, code: "invalid_json"),
    Case(
      name: "plain text", body: "a", status: .unsupportedMediaType, code: "unsupported_media_type",
      headers: [.contentType: "text/plain"]),
  ]

  static func expectOpenAIShape(_ body: [String: Any], _ testCase: Case) {
    let error = body["error"] as? [String: Any]
    #expect(error?["message"] is String, "\(testCase)")
    #expect(error?["code"] as? String == testCase.code, "\(testCase): \(body)")
    let type = testCase.status.code >= 500 ? "server_error" : "invalid_request_error"
    #expect(error?["type"] as? String == type, "\(testCase)")
    #expect(error?.keys.contains("param") == true, "\(testCase): param is always present")
    if let param = testCase.param { #expect(error?["param"] as? String == param, "\(testCase)") }
  }

  @Test func badInputAnswersOpenAIErrors() async throws {
    let state = try ServerFixture.readyState { $0.limits.maxBatch = 2 }
    let dimension = try ServerFixture.models().0.dimension
    try await ServerFixture.application(state).test(.router) { client in
      for testCase in Self.cases {
        try await client.execute(
          uri: "/v1/embeddings", method: .post, headers: testCase.headers,
          body: ByteBuffer(string: testCase.body)
        ) { response in
          #expect(response.status == testCase.status, "\(testCase): \(String(buffer: response.body))")
          Self.expectOpenAIShape(try ServerFixture.decode(response.body), testCase)
        }
      }
      let (status, ok) = try await OpenAIRouteTests.post(
        client, "/v1/embeddings", ["model": "clip-tiny", "input": "a", "dimensions": dimension])
      #expect(status == .ok, "dimensions equal to the model's are accepted: \(ok)")
      try await client.execute(
        uri: "/v1/embed", method: .post, headers: .json, body: ByteBuffer(string: "{}")
      ) {
        let error = try ServerFixture.decode($0.body)["error"] as? [String: Any]
        #expect(
          error?["type"] == nil && error?["code"] as? String == "bad_request", "/v1/embed keeps its shape")
      }
    }
  }

  @Test func aMissingKeyIsAnOpenAIAuthenticationError() async throws {
    // Same scope as /v1/embed: read, which needs a key when reads are closed.
    let state = try ServerFixture.readyState {
      $0.apiKeys = ["secret-key"]
      $0.requireKeyForReads = true
    }
    try await ServerFixture.application(state).test(.router) { client in
      for (uri, method) in [("/v1/embeddings", HTTPRequest.Method.post), ("/v1/models", .get)] {
        try await client.execute(uri: uri, method: method, headers: .json, body: ByteBuffer(string: "{}")) {
          response in
          #expect(response.status == .unauthorized, "\(uri)")
          let error = try ServerFixture.decode(response.body)["error"] as? [String: Any]
          #expect(error?["type"] as? String == "authentication_error", "\(uri)")
          #expect(error?["code"] as? String == "unauthorized", "\(uri)")
        }
      }
      var headers = HTTPFields.json
      headers[.authorization] = "Bearer secret-key"
      try await client.execute(uri: "/v1/models", method: .get, headers: headers) {
        #expect($0.status == .ok)
      }
    }
  }
}
