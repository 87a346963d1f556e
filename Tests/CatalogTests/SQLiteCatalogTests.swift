import Foundation
import Testing

@testable import Catalog

@Suite struct SQLiteCatalogTests {
  static func temporaryPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID()).sqlite").path
  }

  @Test func passesTheStoreSuite() async throws {
    try await StoreSuite.runAll(SQLiteCatalog(path: Self.temporaryPath(), model: "test", dimension: 8))
  }

  @Test func changesItsModel() async throws {
    let path = Self.temporaryPath()
    let store = try SQLiteCatalog(path: path, model: "old", dimension: 8)
    try await ModelChangeSuite.run(store) { model, dimension in
      // Read-only: the store above still holds the writer's lock.
      try SQLiteCatalog(path: path, model: model, dimension: dimension, readOnly: true)
    }
  }

  @Test func reopeningRebuildsTheIndexFromTheFile() async throws {
    let path = Self.temporaryPath()
    do {
      let store = try SQLiteCatalog(path: path, model: "test", dimension: 8)
      try await store.upsert((0..<20).map { StoreSuite.item("item-\($0)", seed: $0) })
    }
    let reopened = try SQLiteCatalog(path: path, model: "test", dimension: 8)
    #expect(try await reopened.count() == 20)
    let results = try await reopened.search(vector: StoreSuite.vector(7), k: 1, filter: SearchFilter())
    #expect(results.first?.id == "item-7")
    #expect(try reopened.integrityCheck() == "ok")
  }

  @Test func anotherModelOrDimensionIsRefused() throws {
    let path = Self.temporaryPath()
    _ = try SQLiteCatalog(path: path, model: "ViT-B-32", dimension: 8)
    #expect(throws: CatalogError.modelMismatch(catalog: "ViT-B-32", requested: "ViT-L-14")) {
      try SQLiteCatalog(path: path, model: "ViT-L-14", dimension: 8)
    }
    #expect(throws: CatalogError.self) { try SQLiteCatalog(path: path, model: "ViT-B-32", dimension: 16) }
  }

  /// 8 wide takes the portable half-float kernel, 512 wide the AVX2 one.
  @Test(arguments: [8, 512]) func exactSearchAgreesWithBruteForce(dimension: Int) async throws {
    let store = try SQLiteCatalog(path: Self.temporaryPath(), model: "test", dimension: dimension)
    let items = (0..<10_000).map {
      CatalogItem(id: "v\($0)", embedding: StoreSuite.vector($0, dimension: dimension))
    }
    try await store.upsert(items)
    let query = StoreSuite.vector(123_456, dimension: dimension)
    let normalizedQuery = try validatedVector(query, dimension: dimension)
    let expected = try items.map { item -> (String, Float) in
      let vector = try validatedVector(item.embedding, dimension: dimension)
      return (item.id, zip(vector, normalizedQuery).map(*).reduce(0, +))
    }.sorted { $0.1 > $1.1 }.prefix(10).map(\.0)
    let results = try await store.search(vector: query, k: 10, filter: SearchFilter())
    #expect(results.map(\.id) == Array(expected))
  }
}
