import ArgumentParser
import Catalog
import Foundation

/// Where the catalog lives: `--store PATH` (env GLIMPSE_STORE), the embedded SQLite file by
/// default.
struct StoreOptions: ParsableArguments {
  static let defaultPath = "glimpse-data/catalog.sqlite"

  @Option(help: "Catalog: a SQLite file path (env GLIMPSE_STORE; default \(StoreOptions.defaultPath)).")
  var store: String?

  var location: String {
    store ?? ProcessInfo.processInfo.environment["GLIMPSE_STORE"] ?? Self.defaultPath
  }

  /// Opens or creates the catalog for embeddings of `model`; another model's catalog is refused.
  func open(model: String, dimension: Int) throws -> any CatalogStore {
    do {
      return try SQLiteCatalog(path: location, model: model, dimension: dimension)
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// Opens an existing catalog without a model (for `glimpse items`).
  func openExisting() throws -> any CatalogStore {
    do {
      return try SQLiteCatalog.openExisting(path: location)
    } catch {
      throw CLIError("\(error)")
    }
  }
}
