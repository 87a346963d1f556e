import Foundation
import GlimpseServer
import Hummingbird
import HummingbirdTesting
import Testing

/// The server on a real socket (the AR stream is tested against the `glimpse serve` process
/// in GlimpseCLITests, where the server's memory can be measured apart from the client's).
@Suite(.serialized) struct LiveServerTests {
  @Test func aRequestOverARealSocket() async throws {
    try await ServerFixture.application(ServerFixture.readyState()).test(.live) { client in
      try await client.execute(
        uri: "/v1/embed", method: .post, headers: .json,
        body: ServerFixture.json(["texts": ["over the wire"]])
      ) { response in
        #expect(response.status == .ok)
        let embeddings = try ServerFixture.decode(response.body)["embeddings"] as? [[Double]]
        #expect(embeddings?.count == 1)
      }
    }
  }
}
