import Catalog
import Foundation
import PostgresNIO

/// The catalog in PostgreSQL with pgvector: one database shared by any number of Glimpse
/// servers, searched through an HNSW index (approximate nearest neighbours, cosine distance).
///
/// The store holds a pool of connections (PostgresClient) whose background work runs in a task
/// of its own; `close()` ends it. Every call may run concurrently with any other.
public final class PostgresCatalog: CatalogStore {
  public let model: String
  public let dimension: Int
  private let client: PostgresClient
  private let runTask: Task<Void, Never>
  private let logger: Logger

  /// HNSW candidates per search when none is given: pgvector's default (40) trades recall for speed
  /// more than a catalog of images needs.
  public static let defaultEfSearch = 100

  /// Connects to the database at `url` (`postgres://user:password@host:port/database`), creates
  /// or migrates the catalog's schema, and checks that it holds embeddings of `model`,
  /// `dimension` wide (a new catalog records them).
  ///
  /// - Parameters:
  ///   - maximumConnections: the pool's size; each concurrent call holds one connection.
  ///   - efSearch: HNSW candidates per search (`hnsw.ef_search`): more is slower and finds more
  ///     of the true nearest neighbours.
  public init(
    url: String, model: String, dimension: Int, maximumConnections: Int = 10,
    efSearch: Int = PostgresCatalog.defaultEfSearch,
    logger: Logger = Logger(label: "glimpse.catalog.postgres")
  ) async throws {
    guard maximumConnections > 0, (1...1000).contains(efSearch) else {
      throw CatalogError.invalidRequest("maximumConnections must be positive and efSearch 1 to 1000")
    }
    let address = try PostgresConnectionURL(url)
    do {
      try await Self.prepareSchema(address, model: model, dimension: dimension, logger: logger)
    } catch {
      throw PostgresEncoding.catalogError(error, while: "cannot open the catalog at \(address.redacted)")
    }
    var configuration = address.clientConfiguration
    configuration.options.maximumConnections = maximumConnections
    configuration.options.additionalStartupParameters = Self.searchSettings(efSearch: efSearch)
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    // Queries wait for run(); waiting for its task to start spares the log a warning about it.
    let (started, signalStarted) = AsyncStream<Void>.makeStream()
    let runTask = Task {
      signalStarted.finish()
      await client.run()
    }
    for await _ in started {}
    self.model = model
    self.dimension = dimension
    self.client = client
    self.runTask = runTask
    self.logger = logger
  }

  /// Creates or migrates the schema on a connection of its own, outside the pool: a server that
  /// can't be reached fails here at once with the reason, where the pool would keep retrying.
  private static func prepareSchema(
    _ address: PostgresConnectionURL, model: String, dimension: Int, logger: Logger
  ) async throws {
    let connection = try await PostgresConnection.connect(
      configuration: try address.connectionConfiguration(), id: 0, logger: logger)
    do {
      try await PostgresSchema.prepare(connection, model: model, dimension: dimension, logger: logger)
    } catch {
      try? await connection.close()
      throw error
    }
    try await connection.close()
  }

  /// Search settings for every connection, sent when it opens rather than before each search.
  /// An iterative scan keeps walking the HNSW graph until it has `k` rows that pass the filter
  /// (and rows beyond `ef_search` when `k` is larger); pgvector older than 0.8 ignores the setting
  /// with a warning.
  static func searchSettings(efSearch: Int) -> [(String, String)] {
    [("hnsw.ef_search", String(efSearch)), ("hnsw.iterative_scan", "relaxed_order")]
  }

  /// Closes every connection. Calls made after it fail with `.storage`.
  public func close() async {
    runTask.cancel()
    await runTask.value
  }

  deinit {
    // A store dropped without close() still lets its connections go.
    runTask.cancel()
  }

  public func upsert(_ items: [CatalogItem]) async throws {
    let prepared = try PostgresUpsert.prepare(items, dimension: dimension)
    guard !prepared.isEmpty else { return }
    try await run("cannot store \(items.count) items") {
      try await client.withTransaction(logger: logger) { connection in
        for batch in PostgresUpsert.batches(prepared) {
          try await connection.query(try PostgresUpsert.query(batch), logger: logger)
        }
      }
    }
  }

  public func get(id: String) async throws -> CatalogItem? {
    try await run("cannot read item \(id)") {
      let rows = try await client.query(
        "SELECT \(unescaped: PostgresEncoding.itemColumns) FROM items WHERE id = \(id)", logger: logger)
      for try await row in rows.decode(PostgresEncoding.ItemRow.self) {
        return try PostgresEncoding.item(row)
      }
      return nil
    }
  }

  @discardableResult
  public func delete(id: String) async throws -> Bool {
    try await run("cannot delete item \(id)") {
      let rows = try await client.query("DELETE FROM items WHERE id = \(id) RETURNING id", logger: logger)
      var deleted = false
      for try await _ in rows.decode(String.self) { deleted = true }
      return deleted
    }
  }

  /// Items in id order (bytewise); the cursor is the last id of the previous page.
  public func list(cursor: String?, limit: Int) async throws -> ItemPage {
    guard limit > 0 else { throw CatalogError.invalidRequest("limit must be positive") }
    let items = try await run("cannot list items") {
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
    try await run("cannot count items") {
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
    return try await run("cannot search") {
      try await PostgresFilter.checkFields(filter, client, logger: logger)
      var bindings = PostgresBindings()
      bindings.append(PostgresEncoding.vectorText(query))
      let whereClause = try PostgresFilter.whereClause(filter, bindings: &bindings)
      bindings.append(k)
      // ORDER BY repeats the distance expression, which is what lets the planner use the index.
      let sql = """
        SELECT id, metadata::text, embedding <=> $1::vector FROM items \(whereClause)
        ORDER BY embedding <=> $1::vector LIMIT $\(bindings.count)
        """
      let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
      var results: [SearchResult] = []
      for try await (id, metadata, distance) in rows.decode((String, String, Double).self) {
        results.append(
          SearchResult(
            id: id, score: Float(1 - distance), metadata: try JSONValue.object(fromJSON: Data(metadata.utf8)))
        )
      }
      // A relaxed-order iterative scan may return rows slightly out of order.
      return results.sorted { $0.score > $1.score }
    }
  }

  public func ids(withContentHash hash: String) async throws -> [String] {
    try await run("cannot look up content hash \(hash)") {
      let rows = try await client.query(
        "SELECT id FROM items WHERE content_hash = \(hash) ORDER BY id", logger: logger)
      var ids: [String] = []
      for try await id in rows.decode(String.self) { ids.append(id) }
      return ids
    }
  }

  /// Runs `body`, turning its errors into catalog errors that say what failed.
  private func run<Result>(_ action: @autoclosure () -> String, _ body: () async throws -> Result)
    async throws -> Result
  {
    do {
      return try await body()
    } catch {
      throw PostgresEncoding.catalogError(error, while: action())
    }
  }
}
