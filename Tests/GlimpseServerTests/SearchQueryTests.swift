import Foundation
import GlimpseServer
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST /v1/search` reads its settings into one `SearchQuery`, whatever the payload kind: the
/// same settings give the same answer as a raw image with a query string, a multipart form and
/// JSON, and a bad `k` is reported before a bad filter and a bad image in each.
@Suite struct SearchQueryTests {
  /// The three payload kinds of one search: `fields` (k, filter, group_by) and `image`.
  static func requests(_ fields: [String: String], image: Data) throws -> [(String, HTTPFields, ByteBuffer)] {
    let query = fields.sorted { $0.key < $1.key }.map {
      "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
    }.joined(separator: "&")
    let (form, formType) = ServerFixture.multipart(
      fields.sorted { $0.key < $1.key }.map { (name: $0.key, filename: nil, data: Data($0.value.utf8)) }
        + [(name: "image", filename: "query.jpg", data: image)])
    var json: [String: Any] = ["image": image.base64EncodedString()]
    for (key, value) in fields {
      json[key] =
        key == "k" ? Int(value) as Any : (try? JSONSerialization.jsonObject(with: Data(value.utf8))) ?? value
    }
    return [
      ("/v1/search?\(query)", .jpeg, ByteBuffer(bytes: image)),
      ("/v1/search", [.contentType: formType], form),
      ("/v1/search", .json, try ServerFixture.json(json)),
    ]
  }

  @Test func everyPayloadKindGivesTheSameSearch() async throws {
    let image = try ServerFixture.jpeg
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      let dimension = try ServerFixture.models().0.dimension
      for index in 0..<3 {
        let embedding = (0..<dimension).map { Float($0 == index ? 1 : 0.1) }
        let item = try ServerFixture.json(["id": "item-\(index)", "embedding": embedding])
        let status = try await client.execute(uri: "/v1/items", method: .post, headers: .json, body: item) {
          $0.status
        }
        #expect(status == .created || status == .ok)
      }
      var answers: [[String]] = []
      for (uri, headers, body) in try Self.requests(["k": "2", "filter": #"{"tags": []}"#], image: image) {
        let ids = try await client.execute(uri: uri, method: .post, headers: headers, body: body) {
          response in
          #expect(response.status == .ok, "\(uri) \(headers)")
          let results = try ServerFixture.decode(response.body)["results"] as? [[String: Any]] ?? []
          return results.compactMap { $0["id"] as? String }
        }
        answers.append(ids)
      }
      #expect(answers[0].count == 2)
      #expect(answers.allSatisfy { $0 == answers[0] })
    }
  }

  @Test func aBadKIsReportedFirstInEveryKind() async throws {
    let corrupt = Data("not an image".utf8)
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      for (uri, headers, body) in try Self.requests(["k": "0", "filter": #"{"bogus": 1}"#], image: corrupt) {
        try await client.execute(uri: uri, method: .post, headers: headers, body: body) { response in
          #expect(response.status == .badRequest)
          let error = try ServerFixture.decode(response.body)["error"] as? [String: Any]
          #expect((error?["message"] as? String)?.hasPrefix("'k' must be in 1…") == true, "\(uri) \(headers)")
        }
      }
    }
  }
}
