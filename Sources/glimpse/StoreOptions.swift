import ArgumentParser
import Catalog
import Foundation
import PostgresCatalog

/// Where the catalog lives: `--store PATH` (env GLIMPSE_STORE): the embedded SQLite file by
/// default, or a PostgreSQL database with pgvector given as a `postgres://` URL.
struct StoreOptions: ParsableArguments {
  static let defaultPath = "glimpse-data/catalog.sqlite"

  @Option(
    help: """
      Catalog: a SQLite file path, or postgres://user:password@host:port/database \
      (env GLIMPSE_STORE; default \(StoreOptions.defaultPath)).
      """)
  var store: String?

  var location: String {
    store ?? ProcessInfo.processInfo.environment["GLIMPSE_STORE"] ?? Self.defaultPath
  }

  var isPostgres: Bool { location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") }

  /// Opens or creates the catalog for embeddings of `model`; another model's catalog is refused.
  func open(model: String, dimension: Int) async throws -> any CatalogStore {
    do {
      if isPostgres { return try await PostgresCatalog(url: location, model: model, dimension: dimension) }
      return try SQLiteCatalog(path: location, model: model, dimension: dimension)
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// Opens an existing catalog without a model (for `glimpse items`).
  func openExisting() async throws -> any CatalogStore {
    do {
      if isPostgres { return try await PostgresCatalog.openExisting(url: location) }
      return try SQLiteCatalog.openExisting(path: location)
    } catch {
      throw CLIError("\(error)")
    }
  }
}

/// Ends a command's use of a store: PostgreSQL connections are closed, and an embedded
/// catalog writes its HNSW snapshot so that the next start resumes it.
func closeStore(_ store: any CatalogStore) async {
  if let postgres = store as? PostgresCatalog { await postgres.close() }
  if let sqlite = store as? SQLiteCatalog { try? sqlite.saveIndexSnapshot() }
}
