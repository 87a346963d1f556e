import Catalog
import PostgresNIO

/// `glimpse index --reembed` on PostgreSQL: the embedding column's width is the catalog's
/// dimension, so the new embeddings go into a new column that replaces the old one, with its
/// HNSW index rebuilt, all in one transaction (PostgreSQL's DDL is transactional: a failure
/// leaves the old catalog whole). The table is locked meanwhile, so servers on the catalog wait.
enum PostgresModelChange {
  /// Items per UPDATE statement (two array parameters, whatever the count).
  static let rowsPerStatement = 500

  static func run(_ change: ModelChange, _ connection: PostgresConnection, logger: Logger) async throws {
    guard (1...PostgresSchema.maximumDimension).contains(change.dimension) else {
      throw CatalogError.invalidRequest(
        "a PostgreSQL catalog holds 1 to \(PostgresSchema.maximumDimension) dimensions, not \(change.dimension)"
      )
    }
    let embeddings = try change.validatedEmbeddings()
    try await connection.query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE", logger: logger)
    try change.checkCovers(
      itemCount: try await count("SELECT count(*) FROM items", connection, logger: logger))
    try await connection.query("DELETE FROM items WHERE id = ANY(\(change.removed))", logger: logger)
    try await connection.query("DROP INDEX IF EXISTS items_embedding", logger: logger)
    try await connection.query(
      PostgresQuery(unsafeSQL: "ALTER TABLE items ADD COLUMN embedding_next vector(\(change.dimension))"),
      logger: logger)
    try await fillNextColumn(embeddings, connection, logger: logger)
    for statement in [
      "ALTER TABLE items DROP COLUMN embedding",
      "ALTER TABLE items RENAME COLUMN embedding_next TO embedding",
      "ALTER TABLE items ALTER COLUMN embedding SET NOT NULL",
      "CREATE INDEX items_embedding ON items USING hnsw (embedding vector_cosine_ops)",
    ] {
      try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
    }
    try await connection.query(
      "UPDATE catalog_info SET value = \(change.model) WHERE key = 'model'", logger: logger)
    try await connection.query(
      "UPDATE catalog_info SET value = \(String(change.dimension)) WHERE key = 'dimension'", logger: logger)
  }

  /// Writes the new embeddings into `embedding_next`, `rowsPerStatement` rows a statement, and
  /// checks that every remaining item got one (an item added meanwhile would not have).
  private static func fillNextColumn(
    _ embeddings: [(id: String, embedding: [Float])], _ connection: PostgresConnection, logger: Logger
  ) async throws {
    for start in stride(from: 0, to: embeddings.count, by: rowsPerStatement) {
      let batch = embeddings[start..<min(start + rowsPerStatement, embeddings.count)]
      let ids = batch.map(\.id)
      let vectors = batch.map { PostgresEncoding.vectorText($0.embedding) }
      try await connection.query(
        """
        UPDATE items SET embedding_next = next.embedding::vector
        FROM unnest(\(ids)::text[], \(vectors)::text[]) AS next(id, embedding) WHERE items.id = next.id
        """, logger: logger)
    }
    let missed = try await count(
      "SELECT count(*) FROM items WHERE embedding_next IS NULL", connection, logger: logger)
    guard missed == 0 else { throw ModelChange.changedMeanwhile("\(missed) items have no new embedding") }
  }

  private static func count(_ sql: String, _ connection: PostgresConnection, logger: Logger) async throws
    -> Int
  {
    let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    for try await value in rows.decode(Int.self) { return value }
    return 0
  }
}
