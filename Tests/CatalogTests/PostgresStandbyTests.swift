import Foundation
import PostgresCatalog
import Testing

@testable import Catalog

/// A streaming standby of the test server (`scripts/pgserver standby`): detected, never
/// migrated, and usable as the read replica of `--store-read`.
@Suite(
  .enabled(
    if: TestPostgres.serverURL != nil && TestPostgres.standbyURL != nil,
    "GLIMPSE_TEST_POSTGRES_STANDBY_URL is not set: scripts/test starts one with scripts/pgserver standby")
)
struct PostgresStandbyTests {
  /// The standby's URL for the primary database at `url` (same database name).
  static func onStandby(_ url: String) throws -> String {
    var standby = try #require(TestPostgres.standbyURL.flatMap(URLComponents.init(string:)))
    standby.path = try #require(URLComponents(string: url)).path
    return try #require(standby.string)
  }

  /// Waits until the standby has replayed the creation of the test's database, and its catalog
  /// when `catalog` is set (replication is asynchronous).
  static func waitForReplay(_ standbyURL: String, catalog: Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
      do {
        let store = try await PostgresCatalog(url: standbyURL, model: "test", dimension: 8)
        await store.close()
        return
      } catch let error as CatalogError {
        let text = "\(error)"
        let missingDatabase = text.contains("database \"") && text.contains("does not exist")
        let waiting = missingDatabase || (catalog && text.contains("catalog_info"))
        guard waiting else { return }
      }
      try await Task.sleep(for: .milliseconds(100))
    }
  }

  /// Waits until the standby has replayed the primary's items (replication is asynchronous).
  static func replicated(_ store: PostgresCatalog, count: Int) async throws {
    let deadline = ContinuousClock.now + .seconds(20)
    while (try? await store.count()) != count, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(50))
    }
    #expect(try await store.count() == count)
  }

  @Test func aStandbyIsReadWithoutBeingMigrated() async throws {
    try await TestPostgres.withDatabase { url in
      let standbyURL = try Self.onStandby(url)
      try await Self.waitForReplay(standbyURL, catalog: false)
      // Before the primary has a catalog, the standby is refused without any CREATE on it.
      await #expect {
        _ = try await PostgresCatalog(url: standbyURL, model: "test", dimension: 8)
      } throws: { error in
        // "cannot execute CREATE … in a read-only transaction" would mean it tried to migrate.
        !"\(error)".contains("read-only transaction") && "\(error)".contains("catalog_info")
      }
      try await TestPostgres.withStore(url) { primary in
        try await primary.upsert((0..<20).map { StoreSuite.item("s\($0)", seed: $0) })
      }
      try await Self.waitForReplay(standbyURL, catalog: true)
      let standby = try await PostgresCatalog(url: standbyURL, model: "test", dimension: 8)
      try await Self.replicated(standby, count: 20)
      let results = try await standby.search(vector: StoreSuite.vector(3), k: 1, filter: SearchFilter())
      #expect(results.first?.id == "s3")
      await #expect(throws: CatalogError.self) { try await standby.upsert([StoreSuite.item("x", seed: 99)]) }
      await standby.close()
      await #expect(throws: CatalogError.self) { try await PostgresCatalog.migrate(url: standbyURL) }
      #expect(try await PostgresCatalog.migrate(url: url) == PostgresCatalog.schemaVersion)
    }
  }

  @Test func readsGoToTheReplicaAndWritesToThePrimary() async throws {
    try await TestPostgres.withDatabase { url in
      let settings = PostgresSettings(readURL: try Self.onStandby(url) + "?application_name=glimpse_reader")
      try await TestPostgres.withStore(url) { _ in }  // the primary's schema, replicated
      try await Self.waitForReplay(try Self.onStandby(url), catalog: true)
      let store = try await PostgresCatalog(url: url, model: "test", dimension: 8, settings: settings)
      try await store.upsert((0..<10).map { StoreSuite.item("r\($0)", seed: $0) })
      #expect(try await store.create(StoreSuite.item("r-new", seed: 50), idempotency: nil) == .created)
      try await Self.replicated(store, count: 11)
      #expect(try await store.get(id: "r-new") != nil)
      // The reads ran on the standby's connections.
      let readers = try await TestPostgres.integer(
        try Self.onStandby(url),
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'glimpse_reader'")
      #expect((readers ?? 0) >= 1)
      try await store.checkAvailable()
      await store.close()
    }
  }
}
