import Foundation
import Logging
import Synchronization
import Testing

@testable import Catalog

/// The catalog's fallbacks are logged, once each.
@Suite(.serialized) struct CatalogLogTests {
  /// Keeps the warnings a logger receives.
  final class Captured: LogHandler, @unchecked Sendable {
    // @unchecked: the lines are guarded by a Mutex; the other properties are only set by
    // Logger's own (value-type) API before use.
    let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { metadata[key] }
      set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
      let kind = event.metadata?["fallback"].map { "\($0)" } ?? ""
      lines.withLock { $0.append("\(event.level) \(kind): \(event.message)") }
    }
  }

  @Test func anUnreadableSnapshotIsRebuiltAndLoggedOnce() async throws {
    let captured = Captured()
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
    let warnings = captured.lines.withLock { $0 }
    #expect(warnings.count == 1, "\(warnings)")
    #expect(warnings.first?.hasPrefix("warning snapshot_unreadable: the HNSW snapshot is unreadable") == true)
  }
}
