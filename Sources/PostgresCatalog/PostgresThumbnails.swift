import Catalog
import Foundation
import PostgresNIO

/// Item thumbnails in their own table (a list or search never reads them), with the content
/// hash each was made for: one is served only while its item still has that hash.
enum PostgresThumbnails {
  static let migration = PostgresSchema.Migration(
    version: 3,
    statements: [
      """
      CREATE TABLE thumbnails (
        id text COLLATE "C" PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
        content_hash text NOT NULL,
        image bytea NOT NULL)
      """
    ])

  /// Writes the thumbnails the items carry (inside the caller's transaction, after the items).
  static func write(_ items: some Collection<CatalogItem>, _ connection: PostgresConnection, logger: Logger)
    async throws
  {
    for item in items {
      guard let thumbnail = item.thumbnail, let hash = item.contentHash else { continue }
      try await connection.query(
        """
        INSERT INTO thumbnails (id, content_hash, image) VALUES (\(item.id), \(hash), \(thumbnail))
        ON CONFLICT (id) DO UPDATE SET content_hash = excluded.content_hash, image = excluded.image
        """, logger: logger)
    }
  }

  static func read(id: String, _ client: PostgresClient, logger: Logger) async throws -> Data? {
    let rows = try await client.query(
      """
      SELECT thumbnails.image FROM thumbnails JOIN items ON items.id = thumbnails.id
      WHERE thumbnails.id = \(id) AND thumbnails.content_hash = items.content_hash
      """, logger: logger)
    for try await image in rows.decode(Data.self) { return image }
    return nil
  }
}
