import Foundation
import GlimpseServer
import Hummingbird
import HummingbirdTesting
import Imaging
import Testing

/// GET /v1/items/{id}/thumbnail: made when an item is created from an image, served as a
/// small JPEG with the content hash as ETag, absent for items made from an embedding or with
/// thumbnails turned off.
@Suite struct ThumbnailTests {
  static func createFromImage(_ client: some TestClientProtocol, id: String) async throws {
    let (form, formType) = ServerFixture.multipart([
      ("id", nil, Data(id.utf8)), ("metadata", nil, Data("{}".utf8)),
      ("image", "a.jpg", try ServerFixture.jpeg),
    ])
    try await client.execute(uri: "/v1/items", method: .post, headers: [.contentType: formType], body: form) {
      #expect($0.status == .created)
    }
  }

  @Test func anItemMadeFromAnImageHasAThumbnail() async throws {
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      try await Self.createFromImage(client, id: "shoes/red shoe.jpg")
      let uri = "/v1/items/shoes%2Fred%20shoe.jpg/thumbnail"
      var etag = ""
      try await client.execute(uri: uri, method: .get) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "image/jpeg")
        etag = response.headers[.eTag] ?? ""
        let bytes = Data(buffer: response.body)
        #expect(bytes.count < 30_000, "\(bytes.count) bytes")
        let picture = try ImageDecoder().decode(bytes)
        #expect(max(picture.width, picture.height) == Thumbnail.longestSide, "the 640×480 photo, reduced")
        #expect(picture.width * 3 == picture.height * 4, "aspect ratio kept")
      }
      #expect(etag.count == 66, "the quoted SHA-256 of the image: \(etag)")
      try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: etag]) {
        #expect($0.status == .notModified)
      }
      try await client.execute(uri: "/v1/items/no-such-item/thumbnail", method: .get) {
        #expect($0.status == .notFound)
      }
    }
  }

  @Test func noThumbnailWithoutAnImageOrWhenTurnedOff() async throws {
    let embedding = (0..<16).map { Float($0) - 7.5 }
    try await ServerFixture.application(ServerFixture.readyState()).test(.router) { client in
      let body = try ServerFixture.json(["id": "vector-only", "embedding": embedding])
      try await client.execute(uri: "/v1/items", method: .post, headers: .json, body: body) {
        #expect($0.status == .created)
      }
      try await client.execute(uri: "/v1/items/vector-only/thumbnail", method: .get) { response in
        #expect(response.status == .notFound)
        #expect(String(buffer: response.body).contains("has no thumbnail"))
      }
    }
    let off = try ServerFixture.readyState { $0.thumbnails = false }
    try await ServerFixture.application(off).test(.router) { client in
      try await Self.createFromImage(client, id: "plain")
      try await client.execute(uri: "/v1/items/plain/thumbnail", method: .get) {
        #expect($0.status == .notFound)
      }
    }
  }
}
