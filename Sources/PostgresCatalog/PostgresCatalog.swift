import Catalog
import Foundation
import PostgresNIO

/// The catalog in PostgreSQL with pgvector: one database shared by any number of Glimpse
/// servers, searched through an HNSW index (approximate nearest neighbours, cosine distance).
///
/// The store holds a pool of connections (`PostgresPool`: a PostgresClient watched for outages,
/// so that calls fail fast while the database is down and resume as soon as it returns), and a
/// second one on a read replica with `--store-read`; `close()` ends them. Every call may run
/// concurrently with any other.
public final class PostgresCatalog: CatalogStore {
  public let model: String
  public let dimension: Int
  private let pool: PostgresPool
  /// The read replica's pool (`--store-read`), for gets, lists, counts and searches.
  private let readPool: PostgresPool?
  private var reader: PostgresPool { readPool ?? pool }
  private let poolSize: Int
  private let logger: Logger

  public static let defaultEfSearch = PostgresSettings.defaultEfSearch

  /// Connects to the database at `url` (`postgres://user:password@host:port/database`), creates
  /// or migrates the catalog's schema (not on a standby, which is only checked), and checks that
  /// it holds embeddings of `model`, `dimension` wide (a new catalog records them).
  public init(
    url: String, model: String, dimension: Int, settings: PostgresSettings = PostgresSettings(),
    logger: Logger = Logger(label: "glimpse.catalog.postgres")
  ) async throws {
    try settings.validate()
    pool = try await Self.openPool(
      url, model: model, dimension: dimension, settings: settings, logger: logger)
    readPool =
      if let readURL = settings.readURL {
        try await Self.openPool(
          readURL, model: model, dimension: dimension, settings: settings, logger: logger)
      } else { nil }
    self.model = model
    self.dimension = dimension
    self.logger = logger
    poolSize = settings.poolSize
  }

  /// Prepares (or, on a standby, checks) the schema at `url`, then starts a pool on it.
  private static func openPool(
    _ url: String, model: String, dimension: Int, settings: PostgresSettings, logger: Logger
  ) async throws -> PostgresPool {
    let address = try PostgresConnectionURL(url)
    var timeouts = settings.timeouts
    if let connect = address.connectTimeout { timeouts.connect = connect }
    let probeConfiguration = try address.connectionConfiguration(connectTimeout: timeouts.connect)
    try await waiting(upTo: settings.waitAtStart, for: address, logger: logger) {
      try await prepareSchema(probeConfiguration, model: model, dimension: dimension, logger: logger)
    }
    var configuration = address.clientConfiguration
    configuration.options.maximumConnections = settings.poolSize
    configuration.options.connectTimeout = timeouts.connect
    // Idle connections are checked often enough that a dead one is dropped before a call picks it.
    configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
    configuration.options.additionalStartupParameters = settings.startupParameters(
      applicationName: address.applicationName)
    return await PostgresPool(
      configuration: configuration, probeConfiguration: probeConfiguration, timeouts: timeouts, logger: logger
    )
  }

  /// Runs `open`, retrying while the database cannot be reached, for at most `wait`.
  static func waiting(
    upTo wait: Duration, for address: PostgresConnectionURL, logger: Logger, _ open: () async throws -> Void
  ) async throws {
    let end = ContinuousClock.now + wait
    var warned = false
    while true {
      do {
        return try await open()
      } catch {
        let catalogError = PostgresEncoding.catalogError(
          error, while: "cannot open the catalog at \(address.redacted)")
        guard case .unavailable = catalogError, ContinuousClock.now < end else { throw catalogError }
        if !warned {
          logger.warning("waiting for the catalog's database", metadata: ["problem": "\(catalogError)"])
          warned = true
        }
        try await Task.sleep(for: .milliseconds(500))
      }
    }
  }

  /// Creates or migrates the schema on a connection of its own, outside the pool: a server that
  /// can't be reached fails here at once with the reason, where the pool would keep retrying.
  private static func prepareSchema(
    _ configuration: PostgresConnection.Configuration, model: String, dimension: Int, logger: Logger
  ) async throws {
    let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
    do {
      try await PostgresSchema.prepare(connection, model: model, dimension: dimension, logger: logger)
    } catch {
      try? await connection.close()
      throw error
    }
    try await connection.close()
  }

  /// Closes every connection. Calls made after it fail with `.storage`.
  public func close() async {
    await pool.close()
    await readPool?.close()
  }

  /// Throws `.unavailable` while the database cannot be reached.
  public func checkAvailable() async throws {
    try pool.checkAvailable()
    try readPool?.checkAvailable()
  }

  public var status: CatalogStatus {
    let problem = pool.problem ?? readPool?.problem
    return CatalogStatus(
      kind: "postgresql", available: problem == nil, problem: problem, poolSize: poolSize,
      callsInFlight: pool.statistics.inFlight.load(ordering: .relaxed),
      outages: pool.statistics.outages.load(ordering: .relaxed))
  }

  public func observeCalls(_ observer: @escaping CatalogCallObserver) {
    pool.observeCalls(observer)
    readPool?.observeCalls(observer)
  }

  public func upsert(_ items: [CatalogItem]) async throws {
    let prepared = try PostgresUpsert.prepare(items, dimension: dimension)
    guard !prepared.isEmpty else { return }
    let logger = logger
    let batches = PostgresUpsert.batches(prepared)
    try await pool.call("upsert", "cannot store \(items.count) items", statements: batches.count) { client in
      try await client.withTransaction(logger: logger) { connection in
        for batch in batches {
          try await connection.query(try PostgresUpsert.query(batch), logger: logger)
        }
        try await PostgresThumbnails.write(prepared, connection, logger: logger)
      }
    }
  }

  /// An atomic create: the item's INSERT … ON CONFLICT DO NOTHING and its idempotency key in
  /// one transaction (`PostgresCreate`).
  public func create(_ item: CatalogItem, idempotency: IdempotentRequest?) async throws -> CreateOutcome {
    let prepared = try PostgresUpsert.prepare([item], dimension: dimension)[0]
    let logger = logger
    return try await pool.call("create", "cannot create item \(item.id)") { client in
      let outcome = try await client.withTransaction(logger: logger) { connection in
        try await PostgresCreate.run(prepared, idempotency: idempotency, connection, logger: logger)
      }
      // About one create in a hundred bounds the table of keys (expired ones are never used).
      if idempotency != nil, Int.random(in: 0..<100) == 0 {
        try? await client.withConnection { try await PostgresCreate.purgeExpired($0, logger: logger) }
      }
      return outcome
    }
  }

  public func get(id: String) async throws -> CatalogItem? {
    let logger = logger
    return try await reader.call("get", "cannot read item \(id)") { client in
      let rows = try await client.query(
        "SELECT \(unescaped: PostgresEncoding.itemColumns) FROM items WHERE id = \(id)", logger: logger)
      for try await row in rows.decode(PostgresEncoding.ItemRow.self) {
        return try PostgresEncoding.item(row)
      }
      return nil
    }
  }

  public func thumbnail(id: String) async throws -> Data? {
    let logger = logger
    return try await reader.call("thumbnail", "cannot read the thumbnail of item \(id)") { client in
      try await PostgresThumbnails.read(id: id, client, logger: logger)
    }
  }

  @discardableResult
  public func delete(id: String) async throws -> Bool {
    let logger = logger
    return try await pool.call("delete", "cannot delete item \(id)") { client in
      // The item and the objects inside it, in one statement.
      let rows = try await client.query(
        "DELETE FROM items WHERE id = \(id) OR parent_id = \(id) RETURNING id", logger: logger)
      var deleted = false
      for try await removed in rows.decode(String.self) where removed == id { deleted = true }
      return deleted
    }
  }

  public func replaceObjects(parentID: String, with objects: [CatalogItem]) async throws {
    let prepared = try PostgresUpsert.prepare(
      preparedObjects(parentID: parentID, objects), dimension: dimension)
    let logger = logger
    let batches = PostgresUpsert.batches(prepared)
    try await pool.call(
      "replace_objects", "cannot store the objects of item \(parentID)", statements: batches.count + 1
    ) { client in
      try await client.withTransaction(logger: logger) { connection in
        try await connection.query("DELETE FROM items WHERE parent_id = \(parentID)", logger: logger)
        for batch in batches {
          try await connection.query(try PostgresUpsert.query(batch), logger: logger)
        }
        try await PostgresThumbnails.write(prepared, connection, logger: logger)
      }
    }
  }

  /// One transaction that replaces the embedding column (`PostgresModelChange`).
  public func changeModel(_ change: ModelChange) async throws {
    let logger = logger
    try await pool.call("change_model", "cannot re-embed the catalog", statements: 8) { client in
      try await client.withTransaction(logger: logger) { connection in
        try await PostgresModelChange.run(change, connection, logger: logger)
      }
    }
  }

  /// Items in id order (bytewise); the cursor is the last id of the previous page.
  public func list(cursor: String?, limit: Int) async throws -> ItemPage {
    guard limit > 0 else { throw CatalogError.invalidRequest("limit must be positive") }
    let logger = logger
    let items = try await reader.call("list", "cannot list items") { client in
      let rows = try await client.query(
        """
        SELECT \(unescaped: PostgresEncoding.itemColumns) FROM items
        WHERE id > \(cursor ?? "") ORDER BY id LIMIT \(limit + 1)
        """, logger: logger)
      var items: [CatalogItem] = []
      for try await row in rows.decode(PostgresEncoding.ItemRow.self) {
        items.append(try PostgresEncoding.item(row))
      }
      return items
    }
    let page = Array(items.prefix(limit))
    return ItemPage(items: page, nextCursor: items.count > limit ? page.last?.id : nil)
  }

  public func count() async throws -> Int {
    let logger = logger
    return try await reader.call("count", "cannot count items") { client in
      let rows = try await client.query("SELECT count(*) FROM items", logger: logger)
      for try await count in rows.decode(Int.self) { return count }
      return 0
    }
  }

  /// The `k` nearest items by cosine distance through the HNSW index (approximate), best first;
  /// score = 1 - distance, the cosine similarity.
  public func search(vector: [Float], k: Int, filter: SearchFilter) async throws -> [SearchResult] {
    guard k > 0 else { throw CatalogError.invalidRequest("k must be at least 1") }
    let query = try validatedVector(vector, dimension: dimension)
    let logger = logger
    return try await reader.call("search", "cannot search") { client in
      try await PostgresFilter.checkFields(filter, client, logger: logger)
      var bindings = PostgresBindings()
      bindings.append(PostgresEncoding.vectorText(query))
      let whereClause = try PostgresFilter.whereClause(filter, bindings: &bindings)
      bindings.append(k)
      // ORDER BY repeats the distance expression, which is what lets the planner use the index.
      let sql = """
        SELECT id, metadata::text, embedding <=> $1::vector, parent_id, object::text FROM items \(whereClause)
        ORDER BY embedding <=> $1::vector LIMIT $\(bindings.count)
        """
      let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
      var results: [SearchResult] = []
      for try await (id, metadata, distance, parentID, object) in rows.decode(
        (String, String, Double, String?, String?).self)
      {
        results.append(
          SearchResult(
            id: id, score: Float(1 - distance), metadata: try JSONValue.object(fromJSON: Data(metadata.utf8)),
            parentID: parentID, object: try object.map(ObjectRegion.init(jsonText:))))
      }
      // A relaxed-order iterative scan may return rows slightly out of order.
      return results.sorted { $0.score > $1.score }
    }
  }

  public func ids(withContentHash hash: String) async throws -> [String] {
    let logger = logger
    return try await pool.call("content_hash", "cannot look up content hash \(hash)") { client in
      let rows = try await client.query(
        "SELECT id FROM items WHERE content_hash = \(hash) ORDER BY id", logger: logger)
      var ids: [String] = []
      for try await id in rows.decode(String.self) { ids.append(id) }
      return ids
    }
  }
}
