import Catalog
import PostgresNIO

/// The catalog's tables, created and migrated by Glimpse itself.
///
/// `glimpse_schema_version` lists the migrations applied. Opening a catalog applies the missing
/// ones in one transaction under an advisory lock, so that servers opening the same database at
/// once migrate it once; a database migrated by a newer Glimpse is refused rather than guessed at.
enum PostgresSchema {
  /// Any constant shared by every Glimpse works; this one spells "glimpse" in ASCII.
  static let migrationLockKey: Int64 = 0x67_6c69_6d70_7365

  /// pgvector's HNSW index takes `vector` columns of at most 2,000 dimensions.
  static let maximumDimension = 2000

  struct Migration {
    var version: Int
    var statements: [String]
  }

  /// Every migration, oldest first. The embedding column's width is the catalog's dimension,
  /// fixed when the catalog is created.
  static func migrations(dimension: Int) -> [Migration] {
    [initial(dimension: dimension), idempotencyKeys, PostgresThumbnails.migration, objects]
  }

  /// The items and the catalog's model and dimension.
  private static func initial(dimension: Int) -> Migration {
    Migration(
      version: 1,
      statements: [
        "CREATE TABLE catalog_info (key text PRIMARY KEY, value text NOT NULL)",
        // Ids sort bytewise (COLLATE "C") whatever the database's collation, so that `list`
        // pages in the same order as the SQLite store.
        """
        CREATE TABLE items (
          id text COLLATE "C" PRIMARY KEY,
          embedding vector(\(dimension)) NOT NULL,
          metadata jsonb NOT NULL DEFAULT '{}',
          tags text[] NOT NULL DEFAULT '{}',
          source_path text,
          content_hash text,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX items_content_hash ON items (content_hash)",
        "CREATE INDEX items_embedding ON items USING hnsw (embedding vector_cosine_ops)",
        // For `tags @> …` filters and the `metadata ? field` check of filter fields.
        "CREATE INDEX items_tags ON items USING gin (tags)",
        "CREATE INDEX items_metadata ON items USING gin (metadata)",
      ])
  }

  /// Answers of creates sent with an Idempotency-Key, kept a day (`PostgresCreate`).
  private static let idempotencyKeys = Migration(
    version: 2,
    statements: [
      """
      CREATE TABLE idempotency_keys (
        key text PRIMARY KEY, fingerprint text NOT NULL, status integer NOT NULL, body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())
      """,
      "CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)",
    ])

  /// Objects inside catalog images (`glimpse index --objects`): the parent's id, the box.
  private static let objects = Migration(
    version: 4,
    statements: [
      "ALTER TABLE items ADD COLUMN parent_id text COLLATE \"C\"",
      "ALTER TABLE items ADD COLUMN object jsonb",
      "CREATE INDEX items_parent_id ON items (parent_id)",
    ])

  /// Creates or migrates the schema, then checks (or, in a new catalog, records) the model and
  /// dimension. A standby (a read replica) is never migrated: it is only checked, and must hold
  /// the primary's schema already.
  static func prepare(
    _ connection: PostgresConnection, model: String, dimension: Int, logger: Logger
  ) async throws {
    guard (1...maximumDimension).contains(dimension) else {
      throw CatalogError.invalidRequest(
        "a PostgreSQL catalog holds 1 to \(maximumDimension) dimensions, not \(dimension)")
    }
    if try await isStandby(connection, logger: logger) {
      logger.info("the catalog's database is a standby: using it read-only, without migrating it")
      try await checkModel(connection, model: model, dimension: dimension, logger: logger)
      return
    }
    let migrations = migrations(dimension: dimension)
    try await connection.withTransaction(logger: logger) { connection in
      try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))", logger: logger)
      try await connection.query("CREATE EXTENSION IF NOT EXISTS vector", logger: logger)
      try await connection.query(
        """
        CREATE TABLE IF NOT EXISTS glimpse_schema_version (
          version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
        """, logger: logger)
      let current = try await currentVersion(connection, logger: logger)
      let latest = migrations.last?.version ?? 0
      guard current <= latest else {
        throw CatalogError.storage(
          "the catalog's schema is version \(current), newer than this Glimpse knows (\(latest)): upgrade Glimpse"
        )
      }
      // An existing catalog is checked before anything changes it.
      if current > 0 { try await checkModel(connection, model: model, dimension: dimension, logger: logger) }
      for migration in migrations where migration.version > current {
        try await apply(migration, connection, logger: logger)
      }
      if current == 0 {
        try await recordModel(connection, model: model, dimension: dimension, logger: logger)
      }
    }
  }

  /// Whether the server is a standby (in recovery), which refuses every write.
  static func isStandby(_ connection: PostgresConnection, logger: Logger) async throws -> Bool {
    let rows = try await connection.query("SELECT pg_is_in_recovery()", logger: logger)
    for try await standby in rows.decode(Bool.self) { return standby }
    return false
  }

  static func currentVersion(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
    let rows = try await connection.query(
      "SELECT coalesce(max(version), 0) FROM glimpse_schema_version", logger: logger)
    for try await version in rows.decode(Int.self) { return version }
    return 0
  }

  private static func apply(_ migration: Migration, _ connection: PostgresConnection, logger: Logger)
    async throws
  {
    logger.info("migrating the catalog schema", metadata: ["version": "\(migration.version)"])
    for statement in migration.statements {
      try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
    }
    try await connection.query(
      "INSERT INTO glimpse_schema_version (version) VALUES (\(migration.version))", logger: logger)
  }

  private static func checkModel(
    _ connection: PostgresConnection, model: String, dimension: Int, logger: Logger
  ) async throws {
    let rows = try await connection.query("SELECT key, value FROM catalog_info", logger: logger)
    var info: [String: String] = [:]
    for try await (key, value) in rows.decode((String, String).self) { info[key] = value }
    guard !info.isEmpty else { throw CatalogError.storage("the database holds no Glimpse catalog yet") }
    if let stored = info["model"], stored != model {
      throw CatalogError.modelMismatch(catalog: stored, requested: model)
    }
    if let stored = info["dimension"], Int(stored) != dimension {
      throw CatalogError.dimensionMismatch(expected: Int(stored) ?? 0, got: dimension)
    }
  }

  private static func recordModel(
    _ connection: PostgresConnection, model: String, dimension: Int, logger: Logger
  ) async throws {
    try await connection.query(
      "INSERT INTO catalog_info (key, value) VALUES ('model', \(model)), ('dimension', \(String(dimension)))",
      logger: logger)
  }
}
