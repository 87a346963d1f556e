import ArgumentParser
import Catalog
import Foundation
import PostgresCatalog

/// Where the catalog lives: `--store PATH` (env GLIMPSE_STORE): the embedded SQLite file by
/// default, or a PostgreSQL database with pgvector given as a `postgres://` URL; and, for
/// PostgreSQL, the settings a deployment tunes (each flag also read from a GLIMPSE_* variable).
struct StoreOptions: ParsableArguments {
  static let defaultPath = "glimpse-data/catalog.sqlite"

  @Option(
    help: """
      Catalog: a SQLite file path, or postgres://user:password@host:port/database \
      (env GLIMPSE_STORE; default \(StoreOptions.defaultPath)).
      """)
  var store: String?

  @Option(help: "PostgreSQL: connections per process (env GLIMPSE_STORE_POOL_SIZE; default 10).")
  var storePoolSize: Int?

  @Option(help: "PostgreSQL: HNSW candidates per search, 1…1000 (env GLIMPSE_EF_SEARCH; default 100).")
  var efSearch: Int?

  @Option(
    help:
      "PostgreSQL: seconds to connect before the database counts as down (env GLIMPSE_STORE_CONNECT_TIMEOUT; default 2)."
  )
  var storeConnectTimeout: Double?

  @Option(
    help:
      "PostgreSQL: seconds a catalog call may take before it answers 503 (per 500 items in a bulk write; env GLIMPSE_STORE_TIMEOUT; default 5)."
  )
  var storeTimeout: Double?

  @Option(
    help:
      "PostgreSQL: the server-side statement_timeout in seconds (env GLIMPSE_STORE_STATEMENT_TIMEOUT; default 30)."
  )
  var storeStatementTimeout: Double?

  @Option(
    help:
      "PostgreSQL: seconds to wait at start-up for a database that is down (env GLIMPSE_STORE_WAIT; default 0)."
  )
  var storeWait: Double?

  @Option(
    help:
      "PostgreSQL: a read replica's URL for searches and reads; writes go to --store (env GLIMPSE_STORE_READ)."
  )
  var storeRead: String?

  var location: String {
    store ?? ProcessInfo.processInfo.environment["GLIMPSE_STORE"] ?? Self.defaultPath
  }

  var isPostgres: Bool { location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") }

  /// The PostgreSQL settings from the flags, else the GLIMPSE_* variables, else the defaults.
  func postgresSettings() throws -> PostgresSettings {
    var settings = PostgresSettings()
    if let size = try value(storePoolSize, "GLIMPSE_STORE_POOL_SIZE", Int.init) { settings.poolSize = size }
    if let ef = try value(efSearch, "GLIMPSE_EF_SEARCH", Int.init) { settings.efSearch = ef }
    if let seconds = try value(storeConnectTimeout, "GLIMPSE_STORE_CONNECT_TIMEOUT", Double.init) {
      settings.timeouts.connect = .seconds(seconds)
    }
    if let seconds = try value(storeTimeout, "GLIMPSE_STORE_TIMEOUT", Double.init) {
      settings.timeouts.call = .seconds(seconds)
      settings.timeouts.statement = max(settings.timeouts.statement, .seconds(seconds))
    }
    if let seconds = try value(storeStatementTimeout, "GLIMPSE_STORE_STATEMENT_TIMEOUT", Double.init) {
      settings.timeouts.statement = .seconds(seconds)
    }
    if let seconds = try value(storeWait, "GLIMPSE_STORE_WAIT", Double.init) {
      settings.waitAtStart = .seconds(seconds)
    }
    settings.readURL = try value(storeRead, "GLIMPSE_STORE_READ") { $0 }
    return settings
  }

  private func value<T>(_ flag: T?, _ variable: String, _ parse: (String) -> T?) throws -> T? {
    if let flag { return flag }
    guard let text = ProcessInfo.processInfo.environment[variable] else { return nil }
    guard let parsed = parse(text) else { throw CLIError("\(variable)='\(text)' is not a valid value") }
    return parsed
  }

  /// Opens or creates the catalog for embeddings of `model`; another model's catalog is refused.
  /// With `readOnly`, an embedded catalog is opened beside the server that holds it.
  func open(model: String, dimension: Int, readOnly: Bool = false) async throws -> any CatalogStore {
    do {
      if isPostgres {
        return try await PostgresCatalog(
          url: location, model: model, dimension: dimension, settings: try postgresSettings())
      }
      return try SQLiteCatalog(path: location, model: model, dimension: dimension, readOnly: readOnly)
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// Opens an existing catalog without a model (for `glimpse items`).
  func openExisting(readOnly: Bool = false) async throws -> any CatalogStore {
    do {
      if isPostgres {
        return try await PostgresCatalog.openExisting(url: location, settings: try postgresSettings())
      }
      return try SQLiteCatalog.openExisting(path: location, readOnly: readOnly)
    } catch let error as CLIError {
      throw error
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
