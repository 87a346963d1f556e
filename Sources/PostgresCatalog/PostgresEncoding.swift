import Catalog
import Foundation
import PostgresNIO

/// How catalog values travel to and from PostgreSQL.
///
/// pgvector's `vector` has no fixed type OID for a binary codec, so vectors travel in its text
/// form (`[0.1,0.2]`, cast with `::vector`); Swift prints the shortest text that reads back as
/// the same Float, and so does pgvector, so nothing is lost. Metadata travels as JSON text
/// cast to `jsonb`.
enum PostgresEncoding {
  static func vectorText(_ vector: [Float]) -> String {
    "[" + vector.map { "\($0)" }.joined(separator: ",") + "]"
  }

  static func vector(fromText text: String) throws -> [Float] {
    let values = text.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",")
    return try values.map { value in
      guard let float = Float(value) else { throw CatalogError.storage("unreadable vector '\(text)'") }
      return float
    }
  }

  static func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
      return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
      throw CatalogError.invalidMetadata("cannot encode \(value) as JSON: \(error)")
    }
  }

  /// The columns `item(_:)` reads, in its order.
  static let itemColumns =
    "id, embedding::text, metadata::text, tags, source_path, content_hash, created_at, updated_at, parent_id, object::text"

  typealias ItemRow = (String, String, String, [String], String?, String?, Date, Date, String?, String?)

  static func item(_ row: ItemRow) throws -> CatalogItem {
    CatalogItem(
      id: row.0, embedding: try vector(fromText: row.1),
      metadata: try JSONValue.object(fromJSON: Data(row.2.utf8)), tags: row.3, sourcePath: row.4,
      contentHash: row.5, createdAt: row.6, updatedAt: row.7, parentID: row.8,
      object: try row.9.map(ObjectRegion.init(jsonText:)))
  }

  /// A catalog error for any failure while doing `action`: catalog errors pass through (also
  /// from inside a transaction), failures to reach the database become `.unavailable` (a
  /// client may retry), other PostgreSQL errors `.storage` with the server's message.
  static func catalogError(_ error: any Error, while action: String) -> CatalogError {
    switch error {
    case let error as CatalogError:
      return error
    case let error as PostgresTransactionError:
      if let inner = error.closureError ?? error.beginError ?? error.commitError {
        return catalogError(inner, while: action)
      }
      return .storage("\(action): transaction failed")
    case let error as PSQLError:
      let message = "\(action): \(describe(error))"
      return isUnreachable(error) ? .unavailable(message) : .storage(message)
    case is CancellationError:
      return .unavailable("\(action): cancelled")
    default:
      // Socket errors from NIO (connection refused, reset, timed out) before PostgreSQL speaks.
      return .unavailable("\(action): \(error)")
    }
  }

  /// Errors that say the database cannot be reached or is shutting down, not that a query
  /// was wrong: SQLSTATE classes 08 (connection exception) and 57P (operator intervention:
  /// shutdown, starting up), and 53300 (too many connections).
  private static func isUnreachable(_ error: PSQLError) -> Bool {
    switch error.code {
    case .connectionError, .serverClosedConnection, .uncleanShutdown, .sslUnsupported:
      return true
    case .server:
      let state = error.serverInfo?[.sqlState] ?? ""
      return state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300"
    default:
      return false
    }
  }

  /// PSQLError's own description hides the server's message (it may hold data); the catalog's
  /// errors are for the operator, who needs it.
  private static func describe(_ error: PSQLError) -> String {
    if let info = error.serverInfo, let message = info[.message] {
      let detail = info[.detail].map { " (\($0))" } ?? ""
      return "\(message)\(detail) [SQLSTATE \(info[.sqlState] ?? "?")]"
    }
    if let underlying = error.underlying { return "\(error.code): \(underlying)" }
    return "\(error.code)"
  }
}
