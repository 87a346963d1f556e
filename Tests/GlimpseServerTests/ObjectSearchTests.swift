import Catalog
import Foundation
import GlimpseClient
import Hummingbird
import HummingbirdTesting
import Imaging
import Testing

@testable import GlimpseServer

/// `/v1/search` over a catalog holding objects inside images (`glimpse index --objects`):
/// results name their parent and box, `group_by=parent` keeps one result per image, and
/// deleting an image through the API deletes its objects.
@Suite struct ObjectSearchTests {
  @Test func resultsNameTheirParentAndGroupByIt() async throws {
    let state = try ServerFixture.readyState()
    let store = try state.services().store
    let dimension = store.dimension
    @Sendable func vector(_ seed: Int) -> [Float] {
      (0..<dimension).map { Float(($0 * 7 + seed * 13) % 17) - 8 }
    }
    let box = ObjectRegion(x1: 4, y1: 8, x2: 60, y2: 90, label: "cup", classID: 41, confidence: 0.8)
    try await store.upsert([
      CatalogItem(id: "kitchen", embedding: vector(1)), CatalogItem(id: "garden", embedding: vector(2)),
    ])
    try await store.replaceObjects(
      parentID: "kitchen",
      with: [
        CatalogItem(id: "kitchen#object-0", embedding: vector(3), object: box),
        CatalogItem(id: "kitchen#object-1", embedding: vector(3).map { $0 + 0.05 }, object: box),
      ])
    try await ServerFixture.application(state).test(.router) { client in
      let plain = try await results(client, ["embedding": vector(3), "k": 3])
      #expect(plain.first?["id"] as? String == "kitchen#object-0")
      #expect(plain.first?["parent_id"] as? String == "kitchen")
      #expect((plain.first?["object"] as? [String: Any])?["class_id"] as? Int == 41)
      #expect(plain.prefix(2).allSatisfy { $0["parent_id"] as? String == "kitchen" })
      let grouped = try await results(client, ["embedding": vector(3), "k": 3, "group_by": "parent"])
      #expect(grouped.map { $0["id"] as? String } == ["kitchen#object-0", "garden"], "one result per image")
      try await client.execute(
        uri: "/v1/search", method: .post, headers: .json,
        body: ServerFixture.json(["embedding": vector(3), "group_by": "tags"])
      ) { response in
        #expect(response.status == .badRequest)
        #expect(String(buffer: response.body).contains("'group_by' accepts only 'parent'"))
      }
      try await client.execute(uri: "/v1/items/kitchen", method: .delete) { #expect($0.status == .noContent) }
      try await client.execute(uri: "/v1/items/kitchen%23object-1", method: .get) {
        #expect($0.status == .notFound, "deleted with its image")
      }
    }
  }

  /// The typed client reads `parent_id` and `object` (the spec describes them) and sends
  /// `group_by`.
  @Test func theClientReadsObjectResults() async throws {
    let state = try ServerFixture.readyState()
    let store = try state.services().store
    let jpeg = try ServerFixture.jpeg
    let (clip, _) = try ServerFixture.models()
    let query = try clip.embedImages([try ImageDecoder().decode(jpeg)])[0]
    let box = ObjectRegion(x1: 1, y1: 2, x2: 30, y2: 40, label: "cup", classID: 41, confidence: 0.5)
    try await store.upsert([CatalogItem(id: "room", embedding: query.map { -$0 })])
    try await store.replaceObjects(
      parentID: "room",
      with: [
        CatalogItem(id: "room#object-0", embedding: query, object: box),
        CatalogItem(id: "room#object-1", embedding: query.map { $0 + 0.001 }, object: box),
      ])
    try await ServerFixture.application(state).test(.live) { client in
      let glimpse = GlimpseClient(serverURL: URL(string: "http://127.0.0.1:\(try #require(client.port))")!)
      let plain = try await glimpse.search(image: jpeg, k: 3)
      #expect(plain.map(\.id) == ["room#object-0", "room#object-1", "room"])
      #expect(plain.first?.parentId == "room" && plain.first?.object?.classId == 41)
      let grouped = try await glimpse.search(image: jpeg, k: 3, groupByParent: true)
      #expect(grouped.map(\.id) == ["room#object-0"], "one result for the room")
      let byText = try await glimpse.search(text: "a cup", k: 3, groupByParent: true)
      #expect(byText.count == 1)
    }
  }

  private func results(_ client: some TestClientProtocol, _ body: [String: Any]) async throws -> [[String:
    Any]]
  {
    try await client.execute(uri: "/v1/search", method: .post, headers: .json, body: ServerFixture.json(body))
    {
      response in
      #expect(response.status == .ok)
      return try ServerFixture.decode(response.body)["results"] as? [[String: Any]] ?? []
    }
  }

  /// POST /v1/items?objects=true stores the image's objects and lists them; PUT replaces them;
  /// an embedding alone cannot have objects.
  @Test func itemsCreatedWithObjects() async throws {
    let state = try ServerFixture.readyState()
    let store = try state.services().store
    try await ServerFixture.application(state).test(.router) { client in
      let (form, formType) = ServerFixture.multipart([
        ("id", nil, Data("street".utf8)), ("image", "a.jpg", try ServerFixture.jpeg),
      ])
      let created = try await client.execute(
        uri: "/v1/items?objects=true&max_objects=3", method: .post, headers: [.contentType: formType],
        body: form
      ) { response in
        #expect(response.status == .created)
        return try ServerFixture.decode(response.body)["objects"] as? [[String: Any]] ?? []
      }
      #expect((1...3).contains(created.count), "\(created.count) objects")
      #expect(created.first?["id"] as? String == "street#object-0")
      #expect(created.allSatisfy { $0["parent_id"] as? String == "street" && $0["object"] != nil })
      let stored = try await store.get(id: "street#object-0")
      #expect(stored?.parentID == "street")
      #expect(try await store.count() == 1 + created.count)

      let (again, againType) = ServerFixture.multipart([("image", "a.jpg", try ServerFixture.jpeg)])
      try await client.execute(
        uri: "/v1/items/street?objects=true&max_objects=1", method: .put, headers: [.contentType: againType],
        body: again
      ) { response in
        #expect(response.status == .ok)
        let objects = try ServerFixture.decode(response.body)["objects"] as? [Any]
        #expect(objects?.count == 1)
      }
      #expect(try await store.count() == 2, "the old objects are replaced")
      try await client.execute(
        uri: "/v1/items?objects=true", method: .post, headers: .json,
        body: ServerFixture.json(["embedding": [Float](repeating: 1, count: store.dimension)])
      ) { response in
        #expect(response.status == .badRequest)
        #expect(String(buffer: response.body).contains("objects=true needs an image"))
      }
    }
  }
}
