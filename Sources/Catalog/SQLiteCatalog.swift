import BlockingWork
import Foundation
import GRDB
import Synchronization

/// The embedded catalog: one SQLite file in WAL mode (the source of truth) and in-memory
/// indexes derived from it on open (exact, plus HNSW for large catalogs, resumed from a
/// snapshot beside the file and caught up from the rows written since).
///
/// Every write is one transaction; WAL with `synchronous = NORMAL` keeps committed writes
/// across a killed process, so an item reported as stored is stored. Each write transaction
/// takes the next value of a write sequence, stored with its rows: an HNSW snapshot records
/// the sequence it reflects, and rows written later are caught up on open.
/// `@unchecked Sendable`: its properties are constants (GRDB's `DatabasePool` and the indexes are thread-safe) and `modelChanged` is atomic.
public final class SQLiteCatalog: CatalogStore, @unchecked Sendable {
  public let model: String
  public let dimension: Int
  public let path: String
  /// Opened beside a writer, for reading only.
  public let readOnly: Bool
  private let database: DatabasePool
  private let index: CatalogIndex
  private let lock: CatalogLock?
  /// Set once `changeModel` has committed: this object's index holds the old model's vectors
  /// then, and must never be written as a snapshot of the new one.
  private let modelChanged = Atomic<Bool>(false)
  private var snapshotPath: String { path + ".hnsw" }

  /// Opens (or creates) the catalog at `path` for embeddings of `model`, `dimension` wide.
  /// A catalog made for another model or dimension is refused.
  ///
  /// A writer takes the catalog's lock (`CatalogLock`): a second writer is refused with
  /// `.locked`. With `readOnly`, the catalog is opened without the lock beside a writer, never
  /// written and never migrated (it must exist).
  public init(
    path: String, model: String, dimension: Int, options: IndexOptions = IndexOptions(),
    readOnly: Bool = false
  ) throws {
    self.path = path
    self.model = model
    self.dimension = dimension
    self.readOnly = readOnly
    do {
      if readOnly {
        guard FileManager.default.fileExists(atPath: path) else {
          throw Self.missingCatalog(path)
        }
        lock = nil
        database = try DatabasePool(path: path, configuration: Self.readOnlyConfiguration)
        try database.read { db in try Self.checkModel(db, model: model, dimension: dimension, record: false) }
      } else {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        lock = try CatalogLock(databasePath: path)
        database = try DatabasePool(path: path, configuration: Self.writerConfiguration)
        try Self.migrator.migrate(database)
        try database.write { db in try Self.checkModel(db, model: model, dimension: dimension, record: true) }
      }
    } catch let error as CatalogError {
      throw error
    } catch {
      throw CatalogError.storage("cannot open \(path): \(error)")
    }
    index = CatalogIndex(dimension: dimension, options: options)
    try loadIndex()
    if !readOnly { index.requestSnapshot = { [weak self] in self?.saveSnapshotOrWarn() } }
  }

  private static var writerConfiguration: Configuration {
    var configuration = Configuration()
    configuration.prepareDatabase { db in
      try db.execute(sql: "PRAGMA synchronous = NORMAL")
    }
    return configuration
  }

  /// Opens an existing catalog with the model and dimension it records (for commands that
  /// read or delete items without running a model).
  public static func openExisting(path: String, readOnly: Bool = false) throws -> SQLiteCatalog {
    guard FileManager.default.fileExists(atPath: path) else {
      throw missingCatalog(path)
    }
    let info: [String: String]
    do {
      let queue = try DatabaseQueue(path: path, configuration: readOnlyConfiguration)
      info = try queue.read { db in
        guard try db.tableExists("catalog_info") else { return [:] }
        return try Dictionary(
          uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT key, value FROM catalog_info").map {
            (row: Row) -> (String, String) in (row["key"], row["value"])
          })
      }
    } catch {
      throw CatalogError.storage("cannot open \(path): \(error)")
    }
    guard let model = info["model"], let dimension = info["dimension"].flatMap(Int.init) else {
      throw CatalogError.storage("\(path) is not a Glimpse catalog (no model recorded)")
    }
    return try SQLiteCatalog(path: path, model: model, dimension: dimension, readOnly: readOnly)
  }

  private static func missingCatalog(_ path: String) -> CatalogError {
    .storage("no catalog at \(path): create one with `glimpse index DIR --store \(path)`")
  }

  private static var readOnlyConfiguration: Configuration {
    var configuration = Configuration()
    configuration.readonly = true
    return configuration
  }

  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1") { db in
      try db.execute(
        sql: """
          CREATE TABLE catalog_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
          CREATE TABLE items (
            id TEXT PRIMARY KEY,
            embedding BLOB NOT NULL,
            metadata TEXT NOT NULL,
            tags TEXT NOT NULL,
            source_path TEXT,
            content_hash TEXT,
            created_at DOUBLE NOT NULL,
            updated_at DOUBLE NOT NULL
          );
          CREATE INDEX items_content_hash ON items(content_hash);
          """)
    }
    migrator.registerMigration("v2-write-sequence") { db in
      try db.execute(
        sql: """
          ALTER TABLE items ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
          INSERT INTO catalog_info(key, value) VALUES ('seq', '0');
          """)
    }
    migrator.registerMigration("v3-idempotency-keys") { db in
      try db.execute(
        sql: """
          CREATE TABLE idempotency_keys (
            key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
            body TEXT NOT NULL, created_at DOUBLE NOT NULL);
          CREATE INDEX idempotency_keys_created_at ON idempotency_keys(created_at);
          """)
    }
    // Thumbnails apart from the items: opening a catalog reads every item row into memory.
    migrator.registerMigration("v4-thumbnails") { db in
      try db.execute(
        sql: """
          CREATE TABLE thumbnails (
            id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
            content_hash TEXT NOT NULL,
            image BLOB NOT NULL
          );
          """)
    }
    // Objects inside catalog images: the parent's id and the object's box and class (JSON).
    migrator.registerMigration("v5-objects") { db in
      try db.execute(
        sql: """
          ALTER TABLE items ADD COLUMN parent_id TEXT;
          ALTER TABLE items ADD COLUMN object TEXT;
          CREATE INDEX items_parent_id ON items(parent_id);
          """)
    }
    return migrator
  }

  /// Checks the recorded model and dimension; a new catalog records them when `record` is set.
  private static func checkModel(_ db: Database, model: String, dimension: Int, record: Bool) throws {
    guard try db.tableExists("catalog_info") else {
      throw CatalogError.storage("not a Glimpse catalog (no catalog_info table)")
    }
    let stored = try String.fetchOne(db, sql: "SELECT value FROM catalog_info WHERE key = 'model'")
    let storedDimension = try String.fetchOne(
      db, sql: "SELECT value FROM catalog_info WHERE key = 'dimension'")
    if let stored, stored != model { throw CatalogError.modelMismatch(catalog: stored, requested: model) }
    if let storedDimension, Int(storedDimension) != dimension {
      throw CatalogError.dimensionMismatch(expected: Int(storedDimension) ?? 0, got: dimension)
    }
    if stored == nil, record {
      try db.execute(
        sql: "INSERT INTO catalog_info(key, value) VALUES ('model', ?), ('dimension', ?)",
        arguments: [model, String(dimension)])
    }
  }

  /// Reads every stored vector into the indexes (in batches, so that the rows and the index
  /// are not both held whole), then resumes the HNSW graph from its snapshot if it is usable.
  private func loadIndex() throws {
    var sequences: [String: Int64] = [:]
    try database.read { db in
      let rows = try Row.fetchCursor(db, sql: "SELECT * FROM items")
      var batch: [CatalogItem] = []
      while let row = try rows.next() {
        let item = try Self.item(row)
        sequences[item.id] = row["seq"]
        batch.append(item)
        if batch.count == 10_000 {
          index.exact.upsert(batch)
          batch.removeAll(keepingCapacity: true)
        }
      }
      index.exact.upsert(batch)
    }
    guard index.exact.count >= index.options.hnswThreshold else { return }
    index.startApproximate(
      restoring: restoredSnapshot { id, snapshotSequence in
        sequences[id].map { $0 <= snapshotSequence } ?? false
      })
  }

  /// The HNSW graph from the last snapshot, keeping only labels whose item has not been
  /// written since (`isCurrent(id, snapshotSequence)`); nil when there is none or it is unreadable.
  private func restoredSnapshot(isCurrent: (String, Int64) -> Bool) -> ApproximateIndex? {
    guard index.options.snapshots, FileManager.default.fileExists(atPath: snapshotPath) else { return nil }
    do {
      let graph = try HNSWGraph(contentsOf: snapshotPath)
      let (labels, sequence) = try HNSWSnapshot.readLabels(from: snapshotPath + ".labels")
      guard graph.dimension == dimension, labels.count == graph.count else {
        CatalogLog.warnOnce(
          "snapshot_unreadable", "the HNSW snapshot does not match the catalog; rebuilding the graph",
          ["path": "\(snapshotPath)"])
        return nil
      }
      return ApproximateIndex(graph: graph, labels: labels, parameters: index.options.hnsw) {
        isCurrent($0, Int64(sequence))
      }
    } catch {
      CatalogLog.warnOnce(
        "snapshot_unreadable", "the HNSW snapshot is unreadable; rebuilding the graph",
        ["path": "\(snapshotPath)", "error": "\(error)"])
      return nil
    }
  }

  private func saveSnapshotOrWarn() {
    do {
      try saveIndexSnapshot()
    } catch {
      CatalogLog.warnOnce(
        "snapshot_write_failed", "cannot write the HNSW snapshot; the next open rebuilds the graph",
        ["path": "\(snapshotPath)", "error": "\(error)"])
    }
  }

  /// Writes the HNSW graph and its label table beside the SQLite file, so the next open
  /// resumes instead of rebuilding. Called automatically as the graph grows; call it before a
  /// planned shutdown too. Does nothing for catalogs below the HNSW threshold, or when the
  /// graph has not grown since the last snapshot.
  public func saveIndexSnapshot() throws {
    // Writes and deletes since the snapshot are caught up from SQLite on open anyway: only
    // vectors added to the graph are worth the (for a million items, seconds-long) write.
    guard !readOnly, !modelChanged.load(ordering: .relaxed), index.options.snapshots,
      let approximate = index.approximateIndex,
      approximate.hasUnsavedAdditions
    else { return }
    // On the writer queue, so that no commit lands between reading the sequence and the labels.
    let (labels, sequence) = try database.writeWithoutTransaction { db in
      (approximate.labelTable, try Self.sequence(db))
    }
    try approximate.writeSnapshot(to: snapshotPath, labels: labels, sequence: UInt64(sequence))
  }

  /// Waits until the HNSW graph (if the catalog has one) has taken in every write, e.g.
  /// before a benchmark; returns false on timeout.
  public func waitUntilIndexed(timeout: Duration = .seconds(3600)) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while let approximate = index.approximateIndex, approximate.tailCount > 0 || approximate.isWorking {
      if ContinuousClock.now > deadline { return false }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return true
  }

  /// Items in the HNSW graph (0 when the catalog is below the threshold): for `glimpse info`
  /// and the tests.
  public var indexStatus: (items: Int, inGraph: Int, waiting: Int) {
    let approximate = index.approximateIndex
    return (index.exact.count, approximate?.liveCount ?? 0, approximate?.tailCount ?? 0)
  }

  private static func sequence(_ db: Database) throws -> Int64 {
    try String.fetchOne(db, sql: "SELECT value FROM catalog_info WHERE key = 'seq'").flatMap { Int64($0) }
      ?? 0
  }

  /// Takes the next write sequence number (inside the caller's transaction).
  private static func nextSequence(_ db: Database) throws -> Int64 {
    try db.execute(sql: "UPDATE catalog_info SET value = CAST(value AS INTEGER) + 1 WHERE key = 'seq'")
    return try sequence(db)
  }

  public func upsert(_ items: [CatalogItem]) async throws {
    let prepared = try items.map { item -> CatalogItem in
      var copy = item
      copy.embedding = try validatedVector(item.embedding, dimension: dimension)
      guard !item.id.isEmpty else { throw CatalogError.invalidRequest("item id must not be empty") }
      return copy
    }
    let index = self.index
    try await database.write { db in
      let sequence = try Self.nextSequence(db)
      for item in prepared { try Self.write(item, sequence: sequence, db) }
      // On the writer queue after the commit: indexes change in commit order, and only
      // for writes that are on disk.
      db.afterNextTransaction { _ in index.applyUpserts(prepared) }
    }
  }

  /// Writes `item`, replacing the row with its id, or (with `replace` false) leaving an existing
  /// row alone (`db.changesCount` then tells whether it was inserted).
  private static func write(_ item: CatalogItem, sequence: Int64, replace: Bool = true, _ db: Database) throws
  {
    let onConflict =
      replace
      ? """
      DO UPDATE SET embedding = excluded.embedding, metadata = excluded.metadata,
        tags = excluded.tags, source_path = excluded.source_path,
        content_hash = excluded.content_hash, updated_at = excluded.updated_at, seq = excluded.seq,
        parent_id = excluded.parent_id, object = excluded.object
      """ : "DO NOTHING"
    // A cached statement is compiled once per connection, not once per row.
    let statement = try db.cachedStatement(
      sql: """
        INSERT INTO items (id, embedding, metadata, tags, source_path, content_hash, created_at, updated_at, seq,
          parent_id, object)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) \(onConflict)
        """)
    try statement.execute(
      arguments: [
        item.id, vectorBlob(item.embedding), try jsonText(item.metadata), try jsonText(item.tags),
        item.sourcePath, item.contentHash, item.createdAt.timeIntervalSince1970,
        item.updatedAt.timeIntervalSince1970, sequence, item.parentID, try item.object?.jsonText(),
      ])
    if let thumbnail = item.thumbnail, let hash = item.contentHash, db.changesCount > 0 {
      try db.execute(
        sql: "INSERT OR REPLACE INTO thumbnails (id, content_hash, image) VALUES (?, ?, ?)",
        arguments: [item.id, hash, thumbnail])
    }
  }

  /// Inserts unless the id exists, in one write transaction (SQLite runs one writer at a time,
  /// so the check and the insert cannot interleave with another create).
  public func create(_ item: CatalogItem, idempotency: IdempotentRequest?) async throws -> CreateOutcome {
    guard !item.id.isEmpty else { throw CatalogError.invalidRequest("item id must not be empty") }
    var normalized = item
    normalized.embedding = try validatedVector(item.embedding, dimension: dimension)
    let prepared = normalized
    let index = self.index
    return try await database.write { db in
      if let idempotency, let earlier = try SQLiteIdempotency.earlierOutcome(idempotency, db) {
        return earlier
      }
      try Self.write(prepared, sequence: try Self.nextSequence(db), replace: false, db)
      let inserted = db.changesCount > 0
      if inserted { db.afterNextTransaction { _ in index.applyUpserts([prepared]) } }
      if let idempotency { try SQLiteIdempotency.record(idempotency, inserted: inserted, db) }
      return inserted ? .created : .exists
    }
  }

  public func get(id: String) async throws -> CatalogItem? {
    try await database.read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM items WHERE id = ?", arguments: [id]).map(Self.item)
    }
  }

  public func thumbnail(id: String) async throws -> Data? {
    try await database.read { db in
      try Data.fetchOne(
        db,
        sql: """
          SELECT thumbnails.image FROM thumbnails JOIN items ON items.id = thumbnails.id
          WHERE thumbnails.id = ? AND thumbnails.content_hash = items.content_hash
          """, arguments: [id])
    }
  }

  @discardableResult
  public func delete(id: String) async throws -> Bool {
    let index = self.index
    return try await database.write { db in
      _ = try Self.nextSequence(db)
      let objects = try Self.deleteObjects(of: id, db)
      try db.execute(sql: "DELETE FROM items WHERE id = ?", arguments: [id])
      let deleted = db.changesCount > 0
      db.afterNextTransaction { _ in
        for removed in objects + [id] { index.applyRemove(removed) }
      }
      return deleted
    }
  }

  public func replaceObjects(parentID: String, with objects: [CatalogItem]) async throws {
    let prepared = try preparedObjects(parentID: parentID, objects).map { object -> CatalogItem in
      var copy = object
      copy.embedding = try validatedVector(object.embedding, dimension: dimension)
      return copy
    }
    let index = self.index
    try await database.write { db in
      let sequence = try Self.nextSequence(db)
      let old = try Self.deleteObjects(of: parentID, db)
      for object in prepared { try Self.write(object, sequence: sequence, db) }
      db.afterNextTransaction { _ in
        for removed in old { index.applyRemove(removed) }
        index.applyUpserts(prepared)
      }
    }
  }

  /// Deletes the objects of item `parentID` (inside the caller's transaction); returns their ids.
  private static func deleteObjects(of parentID: String, _ db: Database) throws -> [String] {
    let ids = try String.fetchAll(db, sql: "SELECT id FROM items WHERE parent_id = ?", arguments: [parentID])
    try db.execute(sql: "DELETE FROM items WHERE parent_id = ?", arguments: [parentID])
    return ids
  }

  /// Every row gets its new embedding and the write sequence of this change, so that an HNSW
  /// snapshot of the old model (same dimension or not) is never resumed; the snapshot files
  /// are removed as well.
  public func changeModel(_ change: ModelChange) async throws {
    guard !readOnly else { throw CatalogError.invalidRequest("the catalog is open read-only") }
    let embeddings = try change.validatedEmbeddings()
    try await database.write { db in
      try change.checkCovers(itemCount: try Int.fetchOne(db, sql: "SELECT count(*) FROM items") ?? 0)
      let sequence = try Self.nextSequence(db)
      for id in change.removed { try db.execute(sql: "DELETE FROM items WHERE id = ?", arguments: [id]) }
      let update = try db.cachedStatement(sql: "UPDATE items SET embedding = ?, seq = ? WHERE id = ?")
      for (id, embedding) in embeddings {
        try update.execute(arguments: [vectorBlob(embedding), sequence, id])
        guard db.changesCount == 1 else { throw ModelChange.changedMeanwhile("item \(id) is gone") }
      }
      try db.execute(
        sql: "UPDATE catalog_info SET value = ? WHERE key = 'model'", arguments: [change.model])
      try db.execute(
        sql: "UPDATE catalog_info SET value = ? WHERE key = 'dimension'",
        arguments: [String(change.dimension)])
    }
    modelChanged.store(true, ordering: .relaxed)
    for file in [snapshotPath, snapshotPath + ".labels"] { try? FileManager.default.removeItem(atPath: file) }
  }

  /// Items in id order; the cursor is the last id of the previous page.
  public func list(cursor: String?, limit: Int) async throws -> ItemPage {
    guard limit > 0 else { throw CatalogError.invalidRequest("limit must be positive") }
    let items = try await database.read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM items WHERE id > ? ORDER BY id LIMIT ?", arguments: [cursor ?? "", limit + 1]
      ).map(Self.item)
    }
    let page = Array(items.prefix(limit))
    return ItemPage(items: page, nextCursor: items.count > limit ? page.last?.id : nil)
  }

  public func count() async throws -> Int {
    try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM items") ?? 0 }
  }

  public func search(vector: [Float], k: Int, filter: SearchFilter) async throws -> [SearchResult] {
    guard k > 0 else { throw CatalogError.invalidRequest("k must be at least 1") }
    let query = try validatedVector(vector, dimension: dimension)
    let index = self.index
    // The scan (or graph search) is blocking work: off the cooperative threads.
    return try await withObjects(try await offload { try index.search(query, k: k, filter: filter) })
  }

  /// Always the exact scan, whatever the catalog's size (for recall measurements).
  public func exactSearch(vector: [Float], k: Int, filter: SearchFilter) async throws -> [SearchResult] {
    guard k > 0 else { throw CatalogError.invalidRequest("k must be at least 1") }
    let query = try validatedVector(vector, dimension: dimension)
    let index = self.index
    return try await withObjects(try await offload { try index.exact.search(query, k: k, filter: filter) })
  }

  /// The matches as results, with the parent and box of those that are objects (the in-memory
  /// indexes hold vectors and metadata only: the few rows of the top k are read here).
  private func withObjects(_ matches: [VectorIndex.Match]) async throws -> [SearchResult] {
    guard !matches.isEmpty else { return [] }
    let ids = matches.map(\.id)
    let objects = try await database.read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT id, parent_id, object FROM items
          WHERE parent_id IS NOT NULL AND id IN (\(databaseQuestionMarks(count: ids.count)))
          """, arguments: StatementArguments(ids))
      return try Dictionary(
        uniqueKeysWithValues: rows.map { row -> (String, (String, ObjectRegion?)) in
          let text: String? = row["object"]
          return (row["id"], (row["parent_id"], try text.map(ObjectRegion.init(jsonText:))))
        })
    }
    return matches.map {
      SearchResult(
        id: $0.id, score: $0.score, metadata: $0.metadata, parentID: objects[$0.id]?.0,
        object: objects[$0.id]?.1)
    }
  }

  public func ids(withContentHash hash: String) async throws -> [String] {
    try await database.read { db in
      try String.fetchAll(db, sql: "SELECT id FROM items WHERE content_hash = ?", arguments: [hash])
    }
  }

  /// `PRAGMA integrity_check`'s answer ("ok" when the file is sound).
  public func integrityCheck() throws -> String {
    try database.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
  }

  // MARK: Row encoding

  private static func item(_ row: Row) throws -> CatalogItem {
    let metadataText: String = row["metadata"]
    let tagsText: String = row["tags"]
    return CatalogItem(
      id: row["id"], embedding: vector(fromBlob: row["embedding"]),
      metadata: try JSONValue.object(fromJSON: Data(metadataText.utf8)),
      tags: try JSONDecoder().decode([String].self, from: Data(tagsText.utf8)),
      sourcePath: row["source_path"], contentHash: row["content_hash"],
      createdAt: Date(timeIntervalSince1970: row["created_at"]),
      updatedAt: Date(timeIntervalSince1970: row["updated_at"]), parentID: row["parent_id"],
      object: try (row["object"] as String?).map(ObjectRegion.init(jsonText:)))
  }
}

/// Vectors are stored as little-endian float32 BLOBs.
func vectorBlob(_ vector: [Float]) -> Data {
  vector.withUnsafeBytes { Data($0) }
}

func vector(fromBlob data: Data) -> [Float] {
  data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

func jsonText<T: Encodable & Collection>(_ value: T) throws -> String {
  // Most items carry no metadata or tags: skip the encoder for them.
  if value.isEmpty { return T.self == [String].self ? "[]" : "{}" }
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  return String(decoding: try encoder.encode(value), as: UTF8.self)
}
