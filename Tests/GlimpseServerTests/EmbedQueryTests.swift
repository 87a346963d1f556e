import Foundation
import GlimpseServer
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST /v1/embed` reads every payload kind into one `EmbedQuery`: the batch is checked once,
/// before any image is decoded, and the kinds give the same embeddings for the same images.
@Suite struct EmbedQueryTests {
  @Test func theBatchIsCheckedBeforeAnyImageIsDecoded() async throws {
    let state = try ServerFixture.readyState { $0.limits.maxBatch = 2 }
    let junk = Data("not an image".utf8)
    let (form, formType) = ServerFixture.multipart(
      (0..<3).map { (name: "image", filename: "junk-\($0).jpg", data: junk) })
    let requests: [(HTTPFields, ByteBuffer)] = [
      (.json, try ServerFixture.json(["images": ["%%%", "%%%", "%%%"]])),
      ([.contentType: formType], form),
    ]
    try await ServerFixture.application(state).test(.router) { client in
      for (headers, body) in requests {
        try await client.execute(uri: "/v1/embed", method: .post, headers: headers, body: body) {
          #expect($0.status == .contentTooLarge, "\(headers)")
        }
      }
    }
  }

  @Test func everyPayloadKindGivesTheSameEmbeddings() async throws {
    let jpeg = try ServerFixture.jpeg
    let (form, formType) = ServerFixture.multipart([
      (name: "image", filename: "a.jpg", data: jpeg), (name: "image", filename: "b.jpg", data: jpeg),
    ])
    let requests: [(HTTPFields, ByteBuffer)] = [
      (.jpeg, ByteBuffer(bytes: jpeg)),
      ([.contentType: formType], form),
      (.json, try ServerFixture.json(["images": [jpeg.base64EncodedString()]])),
    ]
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      var answers: [[[Double]]] = []
      for (headers, body) in requests {
        let embeddings = try await client.execute(
          uri: "/v1/embed", method: .post, headers: headers, body: body
        ) {
          #expect($0.status == .ok, "\(headers)")
          return try ServerFixture.decode($0.body)["embeddings"] as? [[Double]] ?? []
        }
        answers.append(embeddings)
      }
      #expect(answers.map(\.count) == [1, 2, 1])
      // Equal within float rounding: the two multipart images may share one batched model run.
      #expect(answers.joined().allSatisfy { zip($0, answers[0][0]).allSatisfy { abs($0 - $1) < 1e-5 } })
    }
  }
}
