import ArgumentParser
import Catalog
import Foundation
import Hardware
import PostgresCatalog

/// `glimpse backup --store PATH OUT`: a consistent copy of an embedded catalog, taken online.
struct Backup: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Copy an embedded (SQLite) catalog to a new file while a server keeps using it.",
    discussion: """
      Uses SQLite's backup API: the copy holds every write committed when it starts and passes \
      PRAGMA integrity_check. Restore by stopping the server and putting the copy in place of \
      the catalog file. For PostgreSQL use pg_dump (docs/deploy.md).
      """)

  @Argument(help: "The new file to write (never overwritten).") var output: String
  @OptionGroup var storeOptions: StoreOptions

  func run() async throws {
    guard !storeOptions.isPostgres else {
      throw CLIError("backup copies an embedded catalog; back up PostgreSQL with pg_dump (docs/deploy.md)")
    }
    let started = ContinuousClock.now
    do {
      let count = try SQLiteBackup.copy(from: storeOptions.location, to: output)
      let seconds = String(format: "%.2f", (ContinuousClock.now - started).seconds)
      print(
        "backed up \(count) items from \(storeOptions.location) to \(output) in \(seconds) s (integrity ok)")
    } catch {
      throw CLIError("\(error)")
    }
  }
}

/// `glimpse migrate --store URL`: the PostgreSQL schema step on its own, before a rolling upgrade.
struct Migrate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Apply this Glimpse's schema migrations to an existing PostgreSQL catalog.",
    discussion: """
      Run it once with the new version before replacing the servers one at a time \
      (docs/deploy.md); servers apply missing migrations at start-up too.
      """)

  @OptionGroup var storeOptions: StoreOptions

  func run() async throws {
    guard storeOptions.isPostgres else {
      throw CLIError("migrate is for PostgreSQL catalogs; an embedded catalog migrates when it opens")
    }
    do {
      let version = try await PostgresCatalog.migrate(
        url: storeOptions.location, settings: try storeOptions.postgresSettings())
      print("the catalog's schema is at version \(version)")
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError("\(error)")
    }
  }
}
