import Foundation
import Testing

@testable import Catalog

/// The behaviour every `CatalogStore` must have; each store's tests run it on a fresh store.
enum StoreSuite {
  static func vector(_ seed: Int, dimension: Int = 8) -> [Float] {
    var state = UInt64(seed) &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (0..<dimension).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
    }
  }

  static func item(_ id: String, seed: Int, tags: [String] = [], metadata: [String: JSONValue] = [:])
    -> CatalogItem
  {
    CatalogItem(id: id, embedding: vector(seed), metadata: metadata, tags: tags)
  }

  static func runAll(_ store: CatalogStore) async throws {
    try await upsertGetCountDelete(store)
    try await searchFindsTheItemItself(store)
    try await filtersOnTagsAndMetadata(store)
    try await listPagesWithACursor(store)
    try await badInputIsRefused(store)
    try await concurrentCreatesOfOneIdCreateItOnce(store)
    try await idempotencyKeysReplayTheFirstAnswer(store)
    try await thumbnailsFollowTheirItem(store)
    try await objectsFollowTheirParent(store)
    try await searchGroupsObjectsWithTheirParent(store)
  }

  /// A thumbnail is served while its item keeps the content it was made from, survives a
  /// rewrite of the item's metadata, and goes with the item.
  static func thumbnailsFollowTheirItem(_ store: CatalogStore) async throws {
    let picture = Data([0xFF, 0xD8, 1, 2, 3])
    var item = CatalogItem(id: "pictured", embedding: vector(1), contentHash: "hash-1", thumbnail: picture)
    try await store.upsert([item])
    #expect(try await store.thumbnail(id: "pictured") == picture)
    item.thumbnail = nil
    item.metadata = ["color": .string("red")]
    try await store.upsert([item])
    #expect(try await store.thumbnail(id: "pictured") == picture, "same content: kept")
    item.contentHash = "hash-2"
    try await store.upsert([item])
    #expect(try await store.thumbnail(id: "pictured") == nil, "another image: not the old picture")
    item.contentHash = "hash-1"
    try await store.delete(id: "pictured")
    try await store.upsert([item])
    #expect(try await store.thumbnail(id: "pictured") == nil, "deleted with its item")
    let created = CatalogItem(id: "created", embedding: vector(2), contentHash: "h", thumbnail: picture)
    #expect(try await store.create(created, idempotency: nil) == .created)
    #expect(try await store.thumbnail(id: "created") == picture)
    var loser = created
    loser.thumbnail = Data([9])
    #expect(try await store.create(loser, idempotency: nil) == .exists)
    #expect(try await store.thumbnail(id: "created") == picture, "a refused create writes no thumbnail")
    #expect(try await store.thumbnail(id: "no-such-item") == nil)
    try await store.delete(id: "created")
    try await store.delete(id: "pictured")
  }

  /// 16 creates of one new id at once, 10 rounds: exactly one `.created` a round, and the
  /// stored item is the winner's.
  static func concurrentCreatesOfOneIdCreateItOnce(_ store: CatalogStore) async throws {
    for round in 0..<10 {
      let id = "race-\(round)"
      let outcomes = try await withThrowingTaskGroup(of: (Int, CreateOutcome).self) { group in
        for seed in 0..<16 {
          group.addTask { (seed, try await store.create(item(id, seed: 1000 + seed), idempotency: nil)) }
        }
        return try await group.reduce(into: []) { $0.append($1) }
      }
      let winners = outcomes.filter { $0.1 == .created }
      #expect(winners.count == 1, "round \(round): \(winners.count) creates won")
      #expect(outcomes.filter { $0.1 == .exists }.count == 15)
      let stored = try #require(try await store.get(id: id))
      let winner = try validatedVector(vector(1000 + (winners.first?.0 ?? -1)), dimension: 8)
      #expect(zip(stored.embedding, winner).allSatisfy { abs($0 - $1) < 1e-5 }, "the winner's item is stored")
    }
  }

  static func idempotencyKeysReplayTheFirstAnswer(_ store: CatalogStore) async throws {
    func request(_ key: String, _ fingerprint: String) -> IdempotentRequest {
      IdempotentRequest(
        key: key, fingerprint: fingerprint, created: StoredAnswer(status: 201, body: #"{"id":"k"}"#),
        conflict: StoredAnswer(status: 409, body: #"{"error":{}}"#))
    }
    let first = request("key-1", "body-a")
    #expect(try await store.create(item("keyed", seed: 7), idempotency: first) == .created)
    // Concurrent retries of the same request all get the first answer.
    let retries = try await withThrowingTaskGroup(of: CreateOutcome.self) { group in
      for _ in 0..<8 { group.addTask { try await store.create(item("keyed", seed: 7), idempotency: first) } }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(retries == Array(repeating: .replayed(first.created), count: 8))
    #expect(
      try await store.create(item("other", seed: 8), idempotency: request("key-1", "body-b")) == .keyReused)
    #expect(try await store.get(id: "other") == nil, "a reused key writes nothing")
    // A new key for an existing id: 409, and its retry is 409 again, not a create.
    let late = request("key-2", "body-c")
    #expect(try await store.create(item("keyed", seed: 9), idempotency: late) == .exists)
    #expect(try await store.create(item("keyed", seed: 9), idempotency: late) == .replayed(late.conflict))
    // Without a key the same create is a conflict.
    #expect(try await store.create(item("keyed", seed: 7), idempotency: nil) == .exists)
  }

  static func upsertGetCountDelete(_ store: CatalogStore) async throws {
    try await store.upsert([item("a", seed: 1, metadata: ["color": .string("red")])])
    try await store.upsert([item("b", seed: 2), item("c", seed: 3)])
    #expect(try await store.count() == 3)
    let a = try #require(try await store.get(id: "a"))
    #expect(a.metadata["color"] == .string("red"))
    #expect(abs(a.embedding.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5, "stored normalized")
    try await store.upsert([item("a", seed: 4, metadata: ["color": .string("blue")])])
    #expect(try await store.count() == 3, "upsert replaces")
    #expect(try await store.get(id: "a")?.metadata["color"] == .string("blue"))
    #expect(try await store.delete(id: "c"))
    #expect(try await store.delete(id: "c") == false)
    #expect(try await store.get(id: "c") == nil)
    #expect(try await store.count() == 2)
  }

  static func searchFindsTheItemItself(_ store: CatalogStore) async throws {
    try await store.upsert((10..<60).map { item("item-\($0)", seed: $0) })
    let results = try await store.search(vector: vector(33), k: 5, filter: SearchFilter())
    #expect(results.first?.id == "item-33")
    #expect(abs((results.first?.score ?? 0) - 1) < 1e-4)
    #expect(results.count == 5)
    #expect(zip(results, results.dropFirst()).allSatisfy { $0.score >= $1.score })
    try await store.delete(id: "item-33")
    let after = try await store.search(vector: vector(33), k: 5, filter: SearchFilter())
    #expect(after.first?.id != "item-33", "deletes are visible to the next search")
  }

  static func filtersOnTagsAndMetadata(_ store: CatalogStore) async throws {
    try await store.upsert([
      item("shoe-red", seed: 100, tags: ["shoe"], metadata: ["color": .string("red"), "size": .number(42)]),
      item(
        "shoe-blue", seed: 101, tags: ["shoe", "sale"],
        metadata: ["color": .string("blue"), "size": .number(40)]),
      item("hat-red", seed: 102, tags: ["hat"], metadata: ["color": .string("red")]),
    ])
    let red = try await store.search(
      vector: vector(100), k: 10, filter: SearchFilter(metadata: ["color": [.string("red")]]))
    #expect(Set(red.map(\.id)) == ["shoe-red", "hat-red"])
    let sale = try await store.search(
      vector: vector(100), k: 10, filter: SearchFilter(tags: ["shoe", "sale"]))
    #expect(sale.map(\.id) == ["shoe-blue"])
    let sizes = try await store.search(
      vector: vector(100), k: 10, filter: SearchFilter(metadata: ["size": [.number(40), .number(42)]]))
    #expect(Set(sizes.map(\.id)) == ["shoe-red", "shoe-blue"])
    await #expect(throws: CatalogError.self) {
      try await store.search(vector: vector(1), k: 3, filter: SearchFilter(metadata: ["nope": [.null]]))
    }
  }

  static func listPagesWithACursor(_ store: CatalogStore) async throws {
    let total = try await store.count()
    var seen: [String] = []
    var cursor: String?
    repeat {
      let page = try await store.list(cursor: cursor, limit: 7)
      seen += page.items.map(\.id)
      cursor = page.nextCursor
    } while cursor != nil
    #expect(seen.count == total)
    #expect(seen == seen.sorted())
    #expect(Set(seen).count == total)
  }

  static func badInputIsRefused(_ store: CatalogStore) async throws {
    await #expect(throws: CatalogError.dimensionMismatch(expected: 8, got: 3)) {
      try await store.upsert([CatalogItem(id: "x", embedding: [1, 2, 3])])
    }
    await #expect(throws: CatalogError.self) {
      try await store.upsert([CatalogItem(id: "x", embedding: [Float](repeating: .nan, count: 8))])
    }
    await #expect(throws: CatalogError.self) {
      try await store.search(vector: vector(1), k: 0, filter: SearchFilter())
    }
    #expect(try await store.get(id: "x") == nil, "a refused write stores nothing")
    #expect(throws: CatalogError.self) { try JSONValue.object(fromJSON: Data("[1, 2]".utf8)) }
    #expect(throws: CatalogError.self) { try JSONValue.object(fromJSON: Data("{broken".utf8)) }
  }
}

/// `changeModel` (`glimpse index --reembed`), on a store of model "old" with 8 dimensions and
/// a way to open it again with another model.
enum ModelChangeSuite {
  static func run(
    _ store: CatalogStore, reopen: (_ model: String, _ dimension: Int) async throws -> CatalogStore
  ) async throws {
    try await store.upsert((0..<5).map { StoreSuite.item("item-\($0)", seed: $0, tags: ["t"]) })
    let incomplete = ModelChange(
      model: "new", dimension: 6, embeddings: ["item-0": StoreSuite.vector(100, dimension: 6)], removed: [])
    await #expect(throws: CatalogError.self, "an item neither re-embedded nor removed") {
      try await store.changeModel(incomplete)
    }
    let wrongWidth = ModelChange(
      model: "new", dimension: 6,
      embeddings: Dictionary(uniqueKeysWithValues: (0..<4).map { ("item-\($0)", StoreSuite.vector($0)) }),
      removed: ["item-4"])
    await #expect(throws: CatalogError.dimensionMismatch(expected: 6, got: 8)) {
      try await store.changeModel(wrongWidth)
    }
    #expect(try await store.count() == 5, "a refused change leaves the catalog whole")

    let change = ModelChange(
      model: "new", dimension: 6,
      embeddings: Dictionary(
        uniqueKeysWithValues: (0..<4).map { ("item-\($0)", StoreSuite.vector(100 + $0, dimension: 6)) }),
      removed: ["item-4"])
    try await store.changeModel(change)

    await #expect(throws: CatalogError.modelMismatch(catalog: "new", requested: "old")) {
      _ = try await reopen("old", 8)
    }
    let reopened = try await reopen("new", 6)
    #expect(try await reopened.count() == 4)
    #expect(try await reopened.get(id: "item-4") == nil)
    let moved = try #require(try await reopened.get(id: "item-2"))
    #expect(moved.tags == ["t"], "only the embedding changes")
    let hits = try await reopened.search(
      vector: StoreSuite.vector(102, dimension: 6), k: 1, filter: SearchFilter())
    #expect(hits.first?.id == "item-2")
    #expect(hits.first.map { $0.score > 0.999 } == true)
  }
}
