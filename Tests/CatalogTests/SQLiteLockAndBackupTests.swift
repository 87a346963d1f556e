import Foundation
import GRDB
import Synchronization
import Testing

@testable import Catalog

/// One writer per embedded catalog, readers beside it, and online backups.
@Suite struct SQLiteLockAndBackupTests {
  @Test func aSecondWriterIsRefusedNamingTheHolder() async throws {
    let path = SQLiteCatalogTests.temporaryPath()
    let writer = try SQLiteCatalog(path: path, model: "test", dimension: 8)
    try await writer.upsert([StoreSuite.item("a", seed: 1)])
    #expect {
      _ = try SQLiteCatalog(path: path, model: "test", dimension: 8)
    } throws: { error in
      guard case .locked(let message) = error as? CatalogError else { return false }
      return message.contains("pid \(getpid())") && message.contains("PostgreSQL") && message.contains(path)
    }
    #expect(throws: CatalogError.self) { _ = try SQLiteCatalog.openExisting(path: path) }
    // Readers open beside the writer and see its commits.
    let reader = try SQLiteCatalog.openExisting(path: path, readOnly: true)
    #expect(try await reader.count() == 1)
    try await writer.upsert([StoreSuite.item("b", seed: 2)])
    #expect(try await reader.count() == 2)
    await #expect(throws: (any Error).self) { try await reader.upsert([StoreSuite.item("c", seed: 3)]) }
  }

  @Test func theLockIsReleasedWithTheCatalog() throws {
    let path = SQLiteCatalogTests.temporaryPath()
    do { _ = try SQLiteCatalog(path: path, model: "test", dimension: 8) }
    let again = try SQLiteCatalog(path: path, model: "test", dimension: 8)
    #expect(try again.integrityCheck() == "ok")
    let pid = try String(contentsOfFile: path + ".lock", encoding: .utf8)
    #expect(pid.trimmingCharacters(in: .whitespacesAndNewlines) == String(getpid()))
  }

  /// A backup taken while a writer stores items one per transaction holds every item
  /// acknowledged before it started, and passes the integrity check.
  @Test func aBackupUnderWriteLoadHoldsEveryAcknowledgedItem() async throws {
    let path = SQLiteCatalogTests.temporaryPath()
    let store = try SQLiteCatalog(path: path, model: "test", dimension: 8)
    let acknowledged = Mutex<[String]>([])
    let writing = Task {
      var next = 0
      while !Task.isCancelled {
        let id = "w-\(next)"
        try await store.upsert([StoreSuite.item(id, seed: next)])
        acknowledged.withLock { $0.append(id) }
        next += 1
      }
    }
    while acknowledged.withLock({ $0.count }) < 200 { try await Task.sleep(for: .milliseconds(5)) }
    let before = Set(acknowledged.withLock { $0 })
    let copy = path + ".backup"
    let copied = try SQLiteBackup.copy(from: path, to: copy)
    while acknowledged.withLock({ $0.count }) < before.count + 50 {
      try await Task.sleep(for: .milliseconds(5))
    }
    writing.cancel()
    _ = try? await writing.value
    let all = Set(acknowledged.withLock { $0 })
    #expect(copied >= before.count)
    let restored = try SQLiteCatalog.openExisting(path: copy)
    #expect(try restored.integrityCheck() == "ok")
    let restoredIDs = Set(try await restored.list(cursor: nil, limit: 1_000_000).items.map(\.id))
    #expect(
      before.isSubset(of: restoredIDs), "missing: \(before.subtracting(restoredIDs).sorted().prefix(5))")
    // A consistent copy: only items the writer stored (it may hold one whose acknowledgement
    // was still on its way), and fewer than the writer went on to store.
    #expect(restoredIDs.subtracting(all).count <= 1)
    #expect(restoredIDs.count < all.count)
    #expect(throws: CatalogError.self) { try SQLiteBackup.copy(from: path, to: copy) }
  }
}
