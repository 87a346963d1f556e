import Foundation
import GlimpseServer
import Hummingbird
import HummingbirdTesting
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// POST /v1/items over a real socket: atomic creates and Idempotency-Key replays.
@Suite(.serialized) struct ItemCreateTests {
  static let dimension = 16

  static func body(_ id: String, seed: Int) throws -> Data {
    try JSONSerialization.data(withJSONObject: [
      "id": id, "embedding": (0..<dimension).map { Float(($0 * 7 + seed) % 11) - 5 }, "tags": ["t\(seed)"],
    ])
  }

  static func post(_ port: Int, _ body: Data, key: String? = nil) async throws -> (Int, Data, HTTPURLResponse)
  {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/items")!)
    request.httpMethod = "POST"
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    if let key { request.setValue(key, forHTTPHeaderField: "Idempotency-Key") }
    request.httpBody = body
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    return (http.statusCode, data, http)
  }

  @Test func concurrentCreatesOfOneIdGetOne201() async throws {
    try await ServerFixture.application(ServerFixture.readyState()).test(.live) { client in
      let port = try #require(client.port)
      for round in 0..<5 {
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
          for seed in 0..<12 {
            group.addTask { try await Self.post(port, Self.body("same-\(round)", seed: seed)).0 }
          }
          return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 201 }.count == 1, "round \(round): \(statuses)")
        #expect(statuses.filter { $0 == 409 }.count == 11, "round \(round): \(statuses)")
      }
    }
  }

  @Test func aRetryUnderTheSameKeyGetsTheFirstAnswer() async throws {
    try await ServerFixture.application(ServerFixture.readyState()).test(.live) { client in
      let port = try #require(client.port)
      let first = try await Self.post(port, Self.body("keyed", seed: 1), key: "retry-1")
      #expect(first.0 == 201)
      let retry = try await Self.post(port, Self.body("keyed", seed: 1), key: "retry-1")
      #expect(retry.0 == 201)
      #expect(retry.1 == first.1, "the same body, created_at included")
      #expect(retry.2.value(forHTTPHeaderField: "Idempotent-Replayed") == "true")
      let other = try await Self.post(port, Self.body("keyed", seed: 2), key: "retry-1")
      #expect(other.0 == 422)
      #expect(String(decoding: other.1, as: UTF8.self).contains("idempotency_key_reused"))
      #expect(try await Self.post(port, Self.body("keyed", seed: 1), key: "retry-2").0 == 409)
      #expect(try await Self.post(port, Self.body("keyed", seed: 1)).0 == 409)
      // Without an id, the retry returns the id generated the first time.
      let noID = try JSONSerialization.data(withJSONObject: [
        "embedding": (0..<Self.dimension).map { Float($0) + 1 }
      ])
      let generated = try await Self.post(port, noID, key: "retry-3")
      let again = try await Self.post(port, noID, key: "retry-3")
      #expect(generated.0 == 201 && again.0 == 201 && generated.1 == again.1)
      let bad = try await Self.post(port, Self.body("k2", seed: 1), key: "has space")
      #expect(bad.0 == 400)
    }
  }
}
