import Foundation
import Testing

@testable import Catalog

/// The embedded catalog above its HNSW threshold: recall, visibility of writes, snapshots.
@Suite struct HNSWCatalogTests {
  static func options(threshold: Int = 1000) -> IndexOptions {
    var options = IndexOptions()
    options.hnswThreshold = threshold
    options.maximumTail = 1_000_000
    return options
  }

  /// Vectors around 30 centres, like embeddings of a catalog with a few kinds of things;
  /// another `noiseSeed` draws other points around the same centres (queries).
  static func clustered(_ count: Int, dimension: Int = 64, noiseSeed: Int = 1) -> [[Float]] {
    let centres = (0..<30).map { StoreSuite.vector(1000 + $0, dimension: dimension) }
    return (0..<count).map { i in
      let noise = StoreSuite.vector(noiseSeed * 1_000_000 + i, dimension: dimension)
      return zip(centres[i % 30], noise).map { $0 + 0.6 * $1 }
    }
  }

  /// A catalog at `path` holding `vectors` as v0, v1, …, its graph complete.
  static func indexedStore(_ vectors: [[Float]], path: String = SQLiteCatalogTests.temporaryPath())
    async throws
    -> SQLiteCatalog
  {
    let store = try SQLiteCatalog(path: path, model: "test", dimension: 64, options: options())
    try await store.upsert(
      vectors.enumerated().map { CatalogItem(id: "v\($0.offset)", embedding: $0.element) })
    #expect(await store.waitUntilIndexed(timeout: .seconds(120)))
    return store
  }

  @Test func passesTheStoreSuiteWithTheGraph() async throws {
    let store = try SQLiteCatalog(
      path: SQLiteCatalogTests.temporaryPath(), model: "test", dimension: 8,
      options: Self.options(threshold: 1))
    try await StoreSuite.runAll(store)
    #expect(await store.waitUntilIndexed(timeout: .seconds(60)))
    #expect(store.indexStatus.inGraph == store.indexStatus.items)
  }

  @Test func recallAgainstExactIsHigh() async throws {
    let path = SQLiteCatalogTests.temporaryPath()
    let store = try await Self.indexedStore(Self.clustered(5000), path: path)
    #expect(store.indexStatus.inGraph == 5000)
    let exact = try SQLiteCatalog(path: path, model: "test", dimension: 64, readOnly: true)  // exact
    var found = 0
    for (i, query) in Self.clustered(50, noiseSeed: 7).enumerated() {
      let approximate = try await store.search(vector: query, k: 10, filter: SearchFilter())
      let truth = try await exact.search(vector: query, k: 10, filter: SearchFilter())
      found += Set(approximate.map(\.id)).intersection(truth.map(\.id)).count
      #expect(approximate.count == 10, "query \(i)")
    }
    #expect(Double(found) / 500 >= 0.95)
  }

  @Test func updatesAndDeletesAreVisibleToTheNextSearch() async throws {
    let vectors = Self.clustered(2000)
    let store = try await Self.indexedStore(vectors)
    #expect(try await store.search(vector: vectors[5], k: 1, filter: SearchFilter()).first?.id == "v5")
    try await store.delete(id: "v5")
    #expect(try await store.search(vector: vectors[5], k: 1, filter: SearchFilter()).first?.id != "v5")
    // v6 moves to where v900 is: found there at once, and no longer where it was.
    try await store.upsert([CatalogItem(id: "v6", embedding: vectors[900])])
    let atNewPlace = try await store.search(vector: vectors[900], k: 2, filter: SearchFilter())
    #expect(Set(atNewPlace.map(\.id)) == ["v6", "v900"])
    let atOldPlace = try await store.search(vector: vectors[6], k: 1, filter: SearchFilter())
    #expect(atOldPlace.first?.id != "v6")
  }

  @Test func reopeningResumesFromTheSnapshotAndCatchesUp() async throws {
    let path = SQLiteCatalogTests.temporaryPath()
    let vectors = Self.clustered(3000)
    do {
      let store = try await Self.indexedStore(vectors, path: path)
      try store.saveIndexSnapshot()
      // Written after the snapshot: must be caught up from SQLite on reopen.
      try await store.delete(id: "v10")
      try await store.upsert([CatalogItem(id: "v11", embedding: vectors[2500])])
      try await store.upsert([CatalogItem(id: "new", embedding: vectors[1500])])
    }
    #expect(FileManager.default.fileExists(atPath: path + ".hnsw"))
    let reopened = try SQLiteCatalog(path: path, model: "test", dimension: 64, options: Self.options())
    let status = reopened.indexStatus
    #expect(status.items == 3000)
    #expect(status.inGraph >= 2998, "resumed from the snapshot, not rebuilt: \(status)")
    #expect(try await reopened.search(vector: vectors[10], k: 1, filter: SearchFilter()).first?.id != "v10")
    let moved = try await reopened.search(vector: vectors[2500], k: 2, filter: SearchFilter())
    #expect(Set(moved.map(\.id)) == ["v11", "v2500"])
    let added = try await reopened.search(vector: vectors[1500], k: 2, filter: SearchFilter())
    #expect(Set(added.map(\.id)) == ["new", "v1500"])
  }

  @Test func aDamagedSnapshotIsIgnored() async throws {
    let path = SQLiteCatalogTests.temporaryPath()
    let vectors = Self.clustered(1500)
    do {
      let store = try await Self.indexedStore(vectors, path: path)
      try store.saveIndexSnapshot()
    }
    try Data("garbage".utf8).write(to: URL(fileURLWithPath: path + ".hnsw.labels"))
    let reopened = try SQLiteCatalog(path: path, model: "test", dimension: 64, options: Self.options())
    #expect(try await reopened.search(vector: vectors[42], k: 1, filter: SearchFilter()).first?.id == "v42")
    #expect(await reopened.waitUntilIndexed(timeout: .seconds(60)))
    #expect(reopened.indexStatus.inGraph == 1500, "rebuilt from SQLite")
  }
}
