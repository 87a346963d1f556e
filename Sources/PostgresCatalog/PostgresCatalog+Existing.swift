import Catalog
import Logging
import PostgresNIO

extension PostgresCatalog {
  /// Opens an existing catalog with the model and dimension it records (for commands that
  /// read or delete items without running a model).
  public static func openExisting(
    url: String, settings: PostgresSettings = PostgresSettings(),
    logger: Logger = Logger(label: "glimpse.catalog.postgres")
  ) async throws -> PostgresCatalog {
    let (model, dimension) = try await recordedModel(url: url, settings: settings, logger: logger)
    return try await PostgresCatalog(
      url: url, model: model, dimension: dimension, settings: settings, logger: logger)
  }

  /// The schema version this Glimpse migrates a catalog to (its newest migration).
  public static var schemaVersion: Int {
    PostgresSchema.migrations(dimension: 1).map(\.version).max() ?? 0
  }

  /// Applies the schema migrations this Glimpse knows to the existing catalog at `url` (before a
  /// rolling upgrade: servers of the old and the new version then run on the migrated schema).
  /// Returns the schema version. A standby is refused: migrate its primary.
  @discardableResult
  public static func migrate(
    url: String, settings: PostgresSettings = PostgresSettings(),
    logger: Logger = Logger(label: "glimpse.catalog.postgres")
  ) async throws -> Int {
    let (model, dimension) = try await recordedModel(url: url, settings: settings, logger: logger)
    return try await withConnection(url: url, settings: settings, logger: logger) { connection in
      if try await PostgresSchema.isStandby(connection, logger: logger) {
        throw CatalogError.invalidRequest("the database is a standby (read-only): migrate its primary")
      }
      try await PostgresSchema.prepare(connection, model: model, dimension: dimension, logger: logger)
      return try await PostgresSchema.currentVersion(connection, logger: logger)
    }
  }

  private static func recordedModel(url: String, settings: PostgresSettings, logger: Logger) async throws
    -> (String, Int)
  {
    let info = try await withConnection(url: url, settings: settings, logger: logger) { connection in
      try await recordedInfo(connection, logger: logger)
    }
    guard let model = info["model"], let dimension = info["dimension"].flatMap(Int.init) else {
      throw CatalogError.storage(
        "\(try PostgresConnectionURL(url).redacted) holds no Glimpse catalog (no model recorded)")
    }
    return (model, dimension)
  }

  /// Runs `body` on a connection of its own, waiting for the database as `settings` say.
  private static func withConnection<Result>(
    url: String, settings: PostgresSettings, logger: Logger,
    _ body: (PostgresConnection) async throws -> Result
  ) async throws -> Result {
    let address = try PostgresConnectionURL(url)
    let configuration = try address.connectionConfiguration(connectTimeout: settings.timeouts.connect)
    var result: Result?
    try await waiting(upTo: settings.waitAtStart, for: address, logger: logger) {
      let connection = try await PostgresConnection.connect(
        configuration: configuration, id: 0, logger: logger)
      do {
        result = try await body(connection)
      } catch {
        try? await connection.close()
        throw error
      }
      try await connection.close()
    }
    guard let result else { throw CatalogError.storage("no result from \(address.redacted)") }
    return result
  }

  private static func recordedInfo(_ connection: PostgresConnection, logger: Logger) async throws
    -> [String: String]
  {
    let exists = try await connection.query("SELECT to_regclass('catalog_info') IS NOT NULL", logger: logger)
    for try await present in exists.decode(Bool.self) where !present { return [:] }
    let rows = try await connection.query("SELECT key, value FROM catalog_info", logger: logger)
    var info: [String: String] = [:]
    for try await (key, value) in rows.decode((String, String).self) { info[key] = value }
    return info
  }
}
