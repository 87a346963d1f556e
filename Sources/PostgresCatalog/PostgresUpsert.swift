import Catalog
import PostgresNIO

/// Writing items: many rows per INSERT … ON CONFLICT statement (one round trip per batch, not
/// per item), every batch of one `upsert` in one transaction.
enum PostgresUpsert {
  /// Rows per statement: 10 parameters each, well under PostgreSQL's 65,535 per statement.
  static let rowsPerStatement = 500

  /// Validated items, normalized, the last of several with the same id winning (as when they
  /// are written one after another): one INSERT … ON CONFLICT may not touch a row twice.
  static func prepare(_ items: [CatalogItem], dimension: Int) throws -> [CatalogItem] {
    var lastIndexOfID: [String: Int] = [:]
    for (index, item) in items.enumerated() {
      guard !item.id.isEmpty else { throw CatalogError.invalidRequest("item id must not be empty") }
      lastIndexOfID[item.id] = index
    }
    return try items.enumerated().compactMap { index, item in
      guard lastIndexOfID[item.id] == index else { return nil }
      var copy = item
      copy.embedding = try validatedVector(item.embedding, dimension: dimension)
      return copy
    }
  }

  static func batches(_ items: [CatalogItem]) -> [ArraySlice<CatalogItem>] {
    stride(from: 0, to: items.count, by: rowsPerStatement).map {
      items[$0..<min($0 + rowsPerStatement, items.count)]
    }
  }

  /// Replacing an item keeps its `created_at`, like the SQLite store. Without `replace`, an
  /// existing row is left alone and the statement returns the ids it inserted.
  static func query(_ batch: ArraySlice<CatalogItem>, replace: Bool = true) throws -> PostgresQuery {
    var bindings = PostgresBindings(capacity: batch.count * 10)
    var rows: [String] = []
    for item in batch {
      let first = bindings.count + 1
      bindings.append(item.id)
      bindings.append(PostgresEncoding.vectorText(item.embedding))
      bindings.append(try PostgresEncoding.jsonText(item.metadata))
      bindings.append(item.tags)
      bindings.append(item.sourcePath)
      bindings.append(item.contentHash)
      bindings.append(item.createdAt)
      bindings.append(item.updatedAt)
      bindings.append(item.parentID)
      bindings.append(try item.object?.jsonText())
      let p = (first..<first + 10).map { "$\($0)" }
      rows.append(
        "(\(p[0]), \(p[1])::vector, \(p[2])::jsonb, \(p[3]), \(p[4]), \(p[5]), \(p[6]), \(p[7]), \(p[8]), \(p[9])::jsonb)"
      )
    }
    let sql = """
      INSERT INTO items (
        id, embedding, metadata, tags, source_path, content_hash, created_at, updated_at, parent_id, object)
      VALUES \(rows.joined(separator: ", "))
      ON CONFLICT (id) \(replace ? replacement : "DO NOTHING RETURNING id")
      """
    return PostgresQuery(unsafeSQL: sql, binds: bindings)
  }

  private static let replacement = """
    DO UPDATE SET embedding = excluded.embedding, metadata = excluded.metadata,
      tags = excluded.tags, source_path = excluded.source_path,
      content_hash = excluded.content_hash, updated_at = excluded.updated_at,
      parent_id = excluded.parent_id, object = excluded.object
    """
}
