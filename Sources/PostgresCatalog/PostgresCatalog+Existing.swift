import Catalog
import Logging
import PostgresNIO

extension PostgresCatalog {
  /// Opens an existing catalog with the model and dimension it records (for commands that
  /// read or delete items without running a model).
  public static func openExisting(
    url: String, logger: Logger = Logger(label: "glimpse.catalog.postgres")
  ) async throws -> PostgresCatalog {
    let address = try PostgresConnectionURL(url)
    let info: [String: String]
    do {
      let connection = try await PostgresConnection.connect(
        configuration: try address.connectionConfiguration(), id: 0, logger: logger)
      defer { Task { try? await connection.close() } }
      info = try await recordedInfo(connection, logger: logger)
    } catch let error as CatalogError {
      throw error
    } catch {
      throw PostgresEncoding.catalogError(error, while: "cannot open the catalog at \(address.redacted)")
    }
    guard let model = info["model"], let dimension = info["dimension"].flatMap(Int.init) else {
      throw CatalogError.storage("\(address.redacted) holds no Glimpse catalog (no model recorded)")
    }
    return try await PostgresCatalog(url: url, model: model, dimension: dimension, logger: logger)
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
