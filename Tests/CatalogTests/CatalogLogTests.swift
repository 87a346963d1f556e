import Foundation
import LogCapture
import Logging
import Testing

@testable import Catalog

/// The catalog's fallbacks are logged, once each.
@Suite(.serialized) struct CatalogLogTests {
  @Test func anUnreadableSnapshotIsRebuiltAndLoggedOnce() async throws {
    let captured = CapturedLog { event in
      "\(event.level) \(event.metadata?["fallback"].map { "\($0)" } ?? ""): \(event.message)"
    }
    let previous = CatalogLog.logger
    CatalogLog.logger = Logger(label: "test") { _ in captured }
    CatalogLog.resetWarnings()
    defer { CatalogLog.logger = previous }
    let path = SQLiteCatalogTests.temporaryPath()
    let vectors = HNSWCatalogTests.clustered(300)
    var options = HNSWCatalogTests.options(threshold: 100)
    options.snapshots = true
    do {
      let store = try SQLiteCatalog(path: path, model: "test", dimension: 64, options: options)
      try await store.upsert(
        vectors.enumerated().map { CatalogItem(id: "v\($0.offset)", embedding: $0.element) })
      #expect(await store.waitUntilIndexed(timeout: .seconds(120)))
      try store.saveIndexSnapshot()
    }
    try Data("not a graph".utf8).write(to: URL(fileURLWithPath: path + ".hnsw"))
    for _ in 0..<2 {
      let reopened = try SQLiteCatalog(path: path, model: "test", dimension: 64, options: options)
      let hits = try await reopened.search(vector: vectors[7], k: 1, filter: SearchFilter())
      #expect(hits.first?.id == "v7", "the answer stays right")
    }
    let warnings = captured.lines
    #expect(warnings.count == 1, "\(warnings)")
    #expect(warnings.first?.hasPrefix("warning snapshot_unreadable: the HNSW snapshot is unreadable") == true)
  }
}
