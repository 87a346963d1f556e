import Catalog
import PostgresNIO

/// A `SearchFilter` as a SQL condition. Only placeholders (`$n`) are written into the SQL;
/// tags, field names and values are bound.
enum PostgresFilter {
  /// The `WHERE …` clause for `filter` (empty when it accepts everything), appending its values
  /// to `bindings`.
  static func whereClause(_ filter: SearchFilter, bindings: inout PostgresBindings) throws -> String {
    var conditions: [String] = []
    if !filter.tags.isEmpty {
      bindings.append(filter.tags)
      conditions.append("tags @> $\(bindings.count)::text[]")
    }
    for (field, allowed) in filter.metadata.sorted(by: { $0.key < $1.key }) {
      bindings.append(field)
      let fieldPlaceholder = bindings.count
      bindings.append(try allowed.map(PostgresEncoding.jsonText))
      // jsonb equality: 42 and 42.0 are equal, as they are as Doubles in the SQLite store; a
      // missing field gives NULL, which matches nothing.
      conditions.append("metadata -> $\(fieldPlaceholder) = ANY($\(bindings.count)::jsonb[])")
    }
    return conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
  }

  /// Refuses a filter on a metadata field that no item carries (most likely a typo, which
  /// would otherwise silently match nothing), like the SQLite store.
  static func checkFields(
    _ filter: SearchFilter, _ client: PostgresClient, logger: Logger
  ) async throws {
    guard !filter.metadata.isEmpty else { return }
    let fields = filter.metadata.keys.sorted()
    let unknown = try await client.query(
      """
      SELECT field FROM unnest(\(fields)::text[]) AS field
      WHERE NOT EXISTS (SELECT 1 FROM items WHERE metadata ? field)
      ORDER BY field LIMIT 1
      """, logger: logger)
    for try await field in unknown.decode(String.self) {
      throw CatalogError.unknownFilterField(field, known: try await knownFields(client, logger: logger))
    }
  }

  /// Every metadata field in the catalog: a full scan, only for the error message.
  private static func knownFields(_ client: PostgresClient, logger: Logger) async throws -> [String] {
    let rows = try await client.query(
      "SELECT DISTINCT key FROM items, jsonb_object_keys(metadata) AS key ORDER BY key", logger: logger)
    var fields: [String] = []
    for try await field in rows.decode(String.self) { fields.append(field) }
    return fields
  }
}
