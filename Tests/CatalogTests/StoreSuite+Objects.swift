import Foundation
import Testing

@testable import Catalog

/// Objects inside catalog images, on every store.
extension StoreSuite {
  static func region(_ x: Float) -> ObjectRegion {
    ObjectRegion(x1: x, y1: 2, x2: x + 30, y2: 40.5, label: "dog", classID: 16, confidence: 0.75)
  }

  static func object(_ index: Int, of parent: String, seed: Int) -> CatalogItem {
    CatalogItem(id: "\(parent)#object-\(index)", embedding: vector(seed), object: region(Float(index)))
  }

  /// Objects are stored with their parent and box, found by search with both, replaced
  /// together, and deleted with their parent.
  static func objectsFollowTheirParent(_ store: CatalogStore) async throws {
    let before = try await store.count()
    try await store.upsert([item("scene", seed: 200), item("lone", seed: 201)])
    try await store.replaceObjects(
      parentID: "scene", with: [object(0, of: "scene", seed: 202), object(1, of: "scene", seed: 203)])
    #expect(try await store.count() == before + 4)
    let stored = try #require(try await store.get(id: "scene#object-1"))
    #expect(stored.parentID == "scene")
    #expect(stored.object == region(1))
    let hit = try #require(try await store.search(vector: vector(202), k: 3, filter: SearchFilter()).first)
    #expect(hit.id == "scene#object-0" && hit.parentID == "scene" && hit.object == region(0))
    let parentHit = try #require(
      try await store.search(vector: vector(200), k: 1, filter: SearchFilter()).first)
    #expect(parentHit.id == "scene" && parentHit.parentID == nil && parentHit.object == nil)

    try await store.replaceObjects(parentID: "scene", with: [object(2, of: "scene", seed: 204)])
    #expect(try await store.get(id: "scene#object-0") == nil, "replaced objects are gone")
    #expect(try await store.count() == before + 3)
    let afterReplace = try await store.search(vector: vector(202), k: 50, filter: SearchFilter())
    #expect(!afterReplace.map(\.id).contains("scene#object-0"), "and gone from search")

    await #expect(throws: CatalogError.self) {
      var stranger = object(3, of: "scene", seed: 205)
      stranger.parentID = "lone"
      try await store.replaceObjects(parentID: "scene", with: [stranger])
    }
    #expect(try await store.get(id: "scene#object-2") != nil, "a refused replace changes nothing")

    #expect(try await store.delete(id: "scene"))
    #expect(try await store.get(id: "scene#object-2") == nil, "deleted with its parent")
    #expect(try await store.count() == before + 1)
    let afterDelete = try await store.search(vector: vector(204), k: 50, filter: SearchFilter())
    #expect(!afterDelete.map(\.id).contains("scene#object-2"))
    try await store.delete(id: "lone")
  }

  /// `group_by=parent`: one result per image, the best of the image and its objects.
  static func searchGroupsObjectsWithTheirParent(_ store: CatalogStore) async throws {
    try await store.upsert([item("room", seed: 300), item("street", seed: 301)])
    // Many objects all close to the query: ungrouped, they fill the first results.
    let objects = (0..<12).map { index in
      var entry = object(index, of: "room", seed: 302)
      entry.embedding = zip(vector(302), vector(400 + index)).map { $0 + 0.01 * $1 }
      return entry
    }
    try await store.replaceObjects(parentID: "room", with: objects)
    let plain = try await store.search(vector: vector(302), k: 3, filter: SearchFilter())
    #expect(plain.allSatisfy { $0.parentID == "room" })
    let grouped = try await store.searchGroupedByParent(vector: vector(302), k: 3, filter: SearchFilter())
    #expect(grouped.count == 3)
    #expect(grouped.first?.parentID == "room", "the room's best object stands for it")
    #expect(Set(grouped.map(\.groupID)).count == 3, "one result per image")
    #expect(!grouped.map(\.id).contains("room"), "the room is already there through its object")
    #expect(zip(grouped, grouped.dropFirst()).allSatisfy { $0.score >= $1.score })
    try await store.delete(id: "room")
    try await store.delete(id: "street")
  }
}

@Test func groupingKeepsTheBestHitOfEachParent() {
  let results = [
    SearchResult(id: "a#object-0", score: 0.9, metadata: [:], parentID: "a"),
    SearchResult(id: "a", score: 0.8, metadata: [:]),
    SearchResult(id: "b", score: 0.7, metadata: [:]),
    SearchResult(id: "a#object-1", score: 0.6, metadata: [:], parentID: "a"),
    SearchResult(id: "c#object-0", score: 0.5, metadata: [:], parentID: "c"),
  ]
  #expect(groupedByParent(results, limit: 10).map(\.id) == ["a#object-0", "b", "c#object-0"])
  #expect(groupedByParent(results, limit: 2).map(\.id) == ["a#object-0", "b"])
}

@Test func searchResultsNameTheirParentInJSON() throws {
  let result = SearchResult(
    id: "a#object-0", score: 1, metadata: [:], parentID: "a", object: StoreSuite.region(5))
  let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as? [String: Any]
  #expect(json?["parent_id"] as? String == "a")
  #expect((json?["object"] as? [String: Any])?["class_id"] as? Int == 16)
}
