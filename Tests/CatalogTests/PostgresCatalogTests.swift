import Foundation
import PostgresNIO
import Testing

@testable import Catalog
@testable import PostgresCatalog

/// The test server: scripts/pgserver starts one and scripts/test exports its URL.
enum TestPostgres {
  static let serverURL = ProcessInfo.processInfo.environment["GLIMPSE_TEST_POSTGRES_URL"]
  /// A streaming standby of that server (scripts/pgserver standby), for the read-replica tests.
  static let standbyURL = ProcessInfo.processInfo.environment["GLIMPSE_TEST_POSTGRES_STANDBY_URL"]

  static let logger = Logger(label: "glimpse.tests.postgres")

  /// Runs `body` with the URL of a new empty database, dropped afterwards: each test has a
  /// catalog of its own, whatever runs beside it.
  static func withDatabase(_ body: (String) async throws -> Void) async throws {
    let server = try #require(serverURL.flatMap(URLComponents.init(string:)))
    let name = "glimpse_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    // The name is made here, never from input: an identifier can't be a bound parameter.
    try await administer(server, "CREATE DATABASE \(name)")
    var database = server
    database.path = "/" + name
    do {
      try await body(try #require(database.string))
    } catch {
      // PostgresNIO hides the server's message unless asked: show it, a failure must say why.
      Issue.record("PostgreSQL error: \(String(reflecting: error))")
      try? await administer(server, "DROP DATABASE \(name) WITH (FORCE)")
      throw error
    }
    try await administer(server, "DROP DATABASE \(name) WITH (FORCE)")
  }

  private static func administer(_ server: URLComponents, _ sql: String) async throws {
    _ = try await withConnection(server) { connection in
      try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }
  }

  /// The one integer `sql` selects in the database at `url`, read behind the store's back.
  static func integer(_ url: String, _ sql: String) async throws -> Int? {
    try await withConnection(try #require(URLComponents(string: url))) { connection in
      let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
      for try await value in rows.decode(Int.self) { return value }
      return nil
    }
  }

  private static func withConnection<Result>(
    _ url: URLComponents, _ body: (PostgresConnection) async throws -> Result
  ) async throws -> Result {
    let configuration = PostgresConnection.Configuration(
      host: url.host ?? "127.0.0.1", port: url.port ?? 5432, username: url.user ?? "postgres",
      password: url.password, database: String(url.path.dropFirst()), tls: .disable)
    let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
    do {
      let result = try await body(connection)
      try await connection.close()
      return result
    } catch {
      try? await connection.close()
      throw error
    }
  }

  /// Opens a store on `url`, runs `body`, and closes the store whatever happens.
  static func withStore(
    _ url: String, model: String = "test", dimension: Int = 8, _ body: (PostgresCatalog) async throws -> Void
  ) async throws {
    let store = try await PostgresCatalog(url: url, model: model, dimension: dimension)
    do {
      try await body(store)
    } catch {
      await store.close()
      throw error
    }
    await store.close()
  }
}

@Suite(
  .enabled(
    if: TestPostgres.serverURL != nil,
    "GLIMPSE_TEST_POSTGRES_URL is not set: scripts/test starts a server with scripts/pgserver and sets it")
)
struct PostgresCatalogTests {
  @Test func changesItsModel() async throws {
    try await TestPostgres.withDatabase { url in
      try await TestPostgres.withStore(url, model: "old") { store in
        let opened = OpenedStores()
        try await ModelChangeSuite.run(store) { model, dimension in
          try await opened.keep(PostgresCatalog(url: url, model: model, dimension: dimension))
        }
        await opened.closeAll()
      }
    }
  }

  @Test func passesTheStoreSuite() async throws {
    try await TestPostgres.withDatabase { url in
      try await TestPostgres.withStore(url) { store in try await StoreSuite.runAll(store) }
    }
  }

  @Test func anotherModelOrDimensionIsRefused() async throws {
    try await TestPostgres.withDatabase { url in
      try await TestPostgres.withStore(url, model: "ViT-B-32") { _ in }
      await #expect(throws: CatalogError.modelMismatch(catalog: "ViT-B-32", requested: "ViT-L-14")) {
        try await TestPostgres.withStore(url, model: "ViT-L-14") { _ in }
      }
      await #expect(throws: CatalogError.dimensionMismatch(expected: 8, got: 16)) {
        try await TestPostgres.withStore(url, model: "ViT-B-32", dimension: 16) { _ in }
      }
    }
  }

  @Test func reopeningKeepsDataAndMigratesOnce() async throws {
    try await TestPostgres.withDatabase { url in
      let stored = CatalogItem(
        id: "kept", embedding: StoreSuite.vector(99),
        metadata: [
          "color": .string("red"), "size": .number(42.5), "nested": .object(["a": .array([.null])]),
        ],
        tags: ["shoe", "sale"], sourcePath: "/images/kept.jpg", contentHash: "abc123",
        createdAt: Date(timeIntervalSince1970: 1_700_000_000.25))
      try await TestPostgres.withStore(url) { store in
        try await store.upsert((0..<20).map { StoreSuite.item("item-\($0)", seed: $0) } + [stored])
      }
      try await TestPostgres.withStore(url) { reopened in
        #expect(try await reopened.count() == 21)
        let results = try await reopened.search(vector: StoreSuite.vector(7), k: 1, filter: SearchFilter())
        #expect(results.first?.id == "item-7")
        let item = try #require(try await reopened.get(id: "kept"))
        #expect(item.metadata == stored.metadata)
        #expect(item.tags == stored.tags)
        #expect(item.sourcePath == stored.sourcePath)
        #expect(item.contentHash == stored.contentHash)
        #expect(item.createdAt == stored.createdAt)
        #expect(item.embedding == (try validatedVector(stored.embedding, dimension: 8)), "exact round trip")
        #expect(try await reopened.ids(withContentHash: "abc123") == ["kept"])
      }
    }
  }

  @Test func concurrentUpsertsAndSearches() async throws {
    try await TestPostgres.withDatabase { url in
      // Several servers opening one new database at once: the migration runs once.
      let stores = try await withThrowingTaskGroup(of: PostgresCatalog.self) { group in
        for _ in 0..<4 { group.addTask { try await PostgresCatalog(url: url, model: "test", dimension: 8) } }
        return try await group.reduce(into: []) { $0.append($1) }
      }
      let writers = 8
      let batchesPerWriter = 20
      try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
          let store = stores[writer % stores.count]
          group.addTask {
            for batch in 0..<batchesPerWriter {
              let base = (writer * batchesPerWriter + batch) * 5
              try await store.upsert((base..<base + 5).map { StoreSuite.item("w\($0)", seed: $0) })
              let results = try await store.search(
                vector: StoreSuite.vector(base), k: 3, filter: SearchFilter())
              #expect(results.first?.id == "w\(base)", "a write is visible to the writer's next search")
            }
          }
        }
        try await group.waitForAll()
      }
      #expect(try await stores[0].count() == writers * batchesPerWriter * 5)
      // Each migration applied once, however many servers opened the catalog together.
      #expect(
        try await TestPostgres.integer(url, "SELECT count(*) FROM glimpse_schema_version")
          == TestPostgres.integer(url, "SELECT count(DISTINCT version) FROM glimpse_schema_version"))
      #expect(
        try await TestPostgres.integer(url, "SELECT max(version) FROM glimpse_schema_version")
          == PostgresCatalog.schemaVersion)
      for store in stores { await store.close() }
    }
  }

  @Test func hnswSearchFindsNearlyAllTrueNeighboursAndFillsFilteredResults() async throws {
    try await TestPostgres.withDatabase { url in
      try await TestPostgres.withStore(url) { store in
        let items = (0..<3000).map {
          StoreSuite.item("v\($0)", seed: $0, tags: $0 % 100 == 0 ? ["rare"] : [])
        }
        try await store.upsert(items)
        let query = StoreSuite.vector(424_242)
        let exact = try Self.exactNearest(items, query: query, k: 20)
        let found = try await store.search(vector: query, k: 20, filter: SearchFilter())
        let recall = Double(Set(found.map(\.id)).intersection(exact).count) / 20
        #expect(recall >= 0.9, "HNSW is approximate, but not by much at this size")
        // 30 items carry the tag: the iterative scan must walk past the untagged neighbours.
        let rare = try await store.search(vector: query, k: 30, filter: SearchFilter(tags: ["rare"]))
        #expect(rare.count == 30)
        let many = try await store.search(vector: query, k: 500, filter: SearchFilter())
        #expect(many.count == 500, "k above hnsw.ef_search still gives k results")
      }
    }
  }

  @Test func filterValuesAreBoundNotSpliced() async throws {
    try await TestPostgres.withDatabase { url in
      try await TestPostgres.withStore(url) { store in
        let hostile = "x'); DROP TABLE items; --"
        try await store.upsert([
          StoreSuite.item("a", seed: 1, tags: [hostile], metadata: [hostile: .string(hostile)]),
          StoreSuite.item("b", seed: 2),
        ])
        let results = try await store.search(
          vector: StoreSuite.vector(2), k: 5,
          filter: SearchFilter(tags: [hostile], metadata: [hostile: [.string(hostile)]]))
        #expect(results.map(\.id) == ["a"])
        #expect(try await store.count() == 2)
      }
    }
  }

  @Test func urlParametersAndPoolSettingsReachTheServer() async throws {
    try await TestPostgres.withDatabase { url in
      let settings = PostgresSettings(poolSize: 3, efSearch: 77)
      let store = try await PostgresCatalog(
        url: url + "?application_name=glimpse_test_app&connect_timeout=3", model: "test", dimension: 8,
        settings: settings)
      _ = try await store.count()
      let sessions = try await TestPostgres.integer(
        url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'glimpse_test_app'")
      #expect((sessions ?? 0) >= 1)
      #expect(store.status == CatalogStatus(kind: "postgresql", poolSize: 3, callsInFlight: 0, outages: 0))
      try await store.checkAvailable()
      await store.close()
    }
  }

  @Test func callsAfterCloseFail() async throws {
    try await TestPostgres.withDatabase { url in
      let store = try await PostgresCatalog(url: url, model: "test", dimension: 8)
      #expect(try await store.count() == 0)
      await store.close()
      await store.close()
      await #expect(throws: CatalogError.self) { try await store.count() }
    }
  }

  static func exactNearest(_ items: [CatalogItem], query: [Float], k: Int) throws -> Set<String> {
    let normalizedQuery = try validatedVector(query, dimension: 8)
    let scored = try items.map { item in
      (item.id, zip(try validatedVector(item.embedding, dimension: 8), normalizedQuery).map(*).reduce(0, +))
    }
    return Set(scored.sorted { $0.1 > $1.1 }.prefix(k).map(\.0))
  }
}

/// Connection failures, which need no server.
@Suite struct PostgresCatalogConnectionTests {
  @Test func badURLsAreRefusedClearly() async throws {
    await #expect(throws: CatalogError.self) {
      _ = try await PostgresCatalog(url: "mysql://localhost/x", model: "test", dimension: 8)
    }
    await #expect(throws: CatalogError.self) {
      _ = try await PostgresCatalog(
        url: "postgres://localhost/x?sslmode=sometimes", model: "test", dimension: 8)
    }
  }

  @Test func anUnreachableServerIsUnavailable() async throws {
    let started = ContinuousClock.now
    await #expect {
      _ = try await PostgresCatalog(url: "postgres://postgres@127.0.0.1:1/none", model: "test", dimension: 8)
    } throws: { error in
      guard case .unavailable(let message) = error as? CatalogError else { return false }
      return message.contains("127.0.0.1:1")
    }
    #expect(ContinuousClock.now - started < .seconds(30))
  }

  /// `--store-wait`: opening retries an unreachable server for the time given, then fails.
  @Test func openingWaitsForTheDatabaseWhenAsked() async throws {
    let started = ContinuousClock.now
    await #expect(throws: CatalogError.self) {
      _ = try await PostgresCatalog(
        url: "postgres://postgres@127.0.0.1:1/none", model: "test", dimension: 8,
        settings: PostgresSettings(waitAtStart: .seconds(1.5)))
    }
    let waited = ContinuousClock.now - started
    #expect(waited >= .seconds(1.5) && waited < .seconds(10), "waited \(waited)")
  }

  @Test func urlParametersAndSettingsAreChecked() async throws {
    for url in [
      "postgres://localhost/x?connect_timeout=soon", "postgres://localhost/x?connect_timeout=0",
      "postgres://localhost/x?options=-c", "postgres://localhost/x?sslmode=verify-ca",
    ] {
      await #expect(throws: CatalogError.self, "\(url)") {
        _ = try await PostgresCatalog(url: url, model: "test", dimension: 8)
      }
    }
    await #expect(throws: CatalogError.self) {
      _ = try await PostgresCatalog(
        url: "postgres://localhost/x", model: "test", dimension: 8, settings: PostgresSettings(poolSize: 0))
    }
  }
}

/// The stores a test opened, closed at its end.
actor OpenedStores {
  private var stores: [PostgresCatalog] = []

  func keep(_ store: PostgresCatalog) -> PostgresCatalog {
    stores.append(store)
    return store
  }

  func closeAll() async {
    for store in stores { await store.close() }
  }
}
