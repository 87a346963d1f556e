import Foundation
import Testing

/// The embedded catalog's lock seen from the command line: one server per SQLite file, readers
/// and backups beside it.
@Suite(.serialized) struct CatalogLockCLITests {
  @Test func aSecondServerOnOneSQLiteFileRefusesWithTheHolder() async throws {
    let first = try ServeCommandTests.Server()
    defer { _ = first.terminate() }
    try await first.waitUntilReady()
    let (_, status) = try await first.post("/v1/items", json: ["id": "a", "embedding": Self.embedding])
    #expect(status == 201)

    let second = try ServeCommandTests.Server(folder: first.folder)
    let result = second.running.wait()
    #expect(result.status != 0, "the second server must exit")
    let pid = first.running.process.processIdentifier
    #expect(result.stderr.contains("in use by another Glimpse process (pid \(pid))"), "\(result.stderr)")
    #expect(result.stderr.contains("PostgreSQL"))
    for internals in ["SQLite error", "SELECT", "INSERT", "database is locked"] {
      #expect(!result.stderr.contains(internals), "no SQL internals in the message: \(result.stderr)")
    }

    let index = try CLIRunner.run(["index", CLIRunner.indexFolder.path, "--store", first.store])
    #expect(index.status != 0)
    #expect(index.stderr.contains("pid \(pid)"), "\(index.stderr)")

    // Read-only commands and backups work beside the server.
    let count = try CLIRunner.run(["items", "count", "--store", first.store])
    #expect(count.status == 0, "\(count.stderr)")
    #expect(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    let copy = first.folder.appendingPathComponent("backup.sqlite").path
    let backup = try CLIRunner.run(["backup", "--store", first.store, copy])
    #expect(backup.status == 0, "\(backup.stderr)")
    let restoredCount = try CLIRunner.run(["items", "count", "--store", copy])
    #expect(restoredCount.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
  }

  /// The tiny test CLIP model's embedding width.
  static var embedding: [Float] {
    let dimension =
      (try? JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: CLIRunner.tinyModel + "/config.json"))) as? [String: Any])
      .flatMap { $0["embed_dim"] as? Int } ?? 32
    return (0..<dimension).map { Float($0 % 7) - 3 }
  }
}
