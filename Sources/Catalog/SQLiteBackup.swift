import Foundation
import GRDB

/// Online copies of an embedded catalog.
public enum SQLiteBackup {
  /// Copies the catalog at `source` to a new file `destination` with SQLite's backup API: a
  /// consistent snapshot (every transaction committed when the copy starts, none half-written)
  /// taken while a server keeps writing, without its lock. The copy is checked with
  /// `PRAGMA integrity_check` before this returns. Returns the number of items copied.
  @discardableResult
  public static func copy(from source: String, to destination: String) throws -> Int {
    guard FileManager.default.fileExists(atPath: source) else {
      throw CatalogError.storage("no catalog at \(source)")
    }
    guard !FileManager.default.fileExists(atPath: destination) else {
      throw CatalogError.invalidRequest("\(destination) exists: a backup never overwrites a file")
    }
    do {
      var configuration = Configuration()
      configuration.readonly = true
      let reader = try DatabaseQueue(path: source, configuration: configuration)
      let copy = try DatabaseQueue(path: destination)
      try reader.backup(to: copy)
      let (check, count) = try copy.read { db in
        (
          try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "",
          try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM items") ?? 0
        )
      }
      guard check == "ok" else { throw CatalogError.storage("the copy fails its integrity check: \(check)") }
      return count
    } catch let error as CatalogError {
      throw error
    } catch {
      throw CatalogError.storage("cannot back up \(source) to \(destination): \(error)")
    }
  }
}
