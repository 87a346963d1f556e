import Catalog
import Foundation
import Testing

/// `glimpse index`, `search` and `items` end to end, good and bad input.
@Suite(.serialized) struct IndexCommandTests {
  let folder: URL
  let store: String

  init() throws {
    folder = try CLIRunner.temporaryFolder()
    store = folder.appendingPathComponent("catalog.sqlite").path
  }

  @Test func indexesSearchesAndResumes() throws {
    let metadata = CLIRunner.indexFolder.appendingPathComponent("metadata.csv").path
    let first = try CLIRunner.run([
      "index", CLIRunner.indexFolder.path, "--store", store, "--tags", "demo", "--metadata-from", metadata,
    ])
    #expect(first.status == 2, "one corrupt file: partial success")
    #expect(first.lines.filter { $0.hasPrefix("stored ") }.count == 120)
    #expect(first.stdout.contains("failed hats/truncated.jpg: invalid JPEG"))
    #expect(first.stderr.contains("indexed 120"))
    #expect(!first.stdout.contains("README.txt"), "non-image files are ignored")

    let second = try CLIRunner.run(["index", CLIRunner.indexFolder.path, "--store", store, "--tags", "demo"])
    #expect(second.lines.filter { $0.hasPrefix("skipped ") }.count == 120)
    #expect(second.lines.filter { $0.hasPrefix("stored ") }.isEmpty)
    #expect(
      second.stdout.contains("skipped item000.jpg (unchanged image, metadata updated)"),
      "the sidecar is gone, so the metadata changes without re-embedding")

    let count = try CLIRunner.run(["items", "count", "--store", store])
    #expect(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "120")
    let search = try CLIRunner.run([
      "search", "--image", CLIRunner.indexFolder.appendingPathComponent("shoes/item001.png").path, "-k", "3",
      "--store", store, "--tag", "demo", "--json",
    ])
    let results = try JSONDecoder().decode([SearchResult].self, from: Data(search.stdout.utf8))
    #expect(results.first?.id == "shoes/item001.png")
    #expect(results.count == 3)

    let deleted = try CLIRunner.run(["items", "delete", "shoes/item001.png", "--store", store])
    #expect(deleted.status == 0)
    let missing = try CLIRunner.run(["items", "get", "shoes/item001.png", "--store", store])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("no item with id 'shoes/item001.png'"))
  }

  /// A catalog of clip-tiny refuses clip-tiny-dynamic with the way out, `index --reembed`,
  /// which lists the items it cannot embed again and changes nothing until --drop-missing.
  @Test func reembedMovesTheCatalogToAnotherModel() throws {
    let photos = folder.appendingPathComponent("photos")
    try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
    for name in ["item000.jpg", "item004.jpg", "item008.jpg"] {
      try FileManager.default.copyItem(
        at: CLIRunner.indexFolder.appendingPathComponent(name), to: photos.appendingPathComponent(name))
    }
    #expect(try CLIRunner.run(["index", photos.path, "--store", store]).status == 0)
    let other = CLIRunner.packageRoot.appendingPathComponent("models/test/clip-tiny-dynamic").path
    let query = photos.appendingPathComponent("item004.jpg").path
    let refused = try CLIRunner.run(["search", "--image", query, "--store", store, "--model", other])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("glimpse index --reembed"), "the error names the way out")

    try FileManager.default.removeItem(at: photos.appendingPathComponent("item008.jpg"))
    let stopped = try CLIRunner.run(["index", "--reembed", "--store", store, "--model", other])
    #expect(stopped.status == 1)
    #expect(stopped.stdout.contains("left behind item008.jpg: source file"))
    #expect(stopped.stderr.contains("nothing was changed"))
    #expect(try CLIRunner.run(["search", "--image", query, "--store", store]).status == 0, "still clip-tiny")

    let moved = try CLIRunner.run([
      "index", "--reembed", "--drop-missing", "--store", store, "--model", other,
    ])
    #expect(moved.status == 0, "\(moved.stderr)")
    #expect(moved.stdout.contains("2 items re-embedded, 1 removed"))
    let search = try CLIRunner.run(["search", "--image", query, "--store", store, "--model", other, "--json"])
    let results = try JSONDecoder().decode([SearchResult].self, from: Data(search.stdout.utf8))
    #expect(results.map(\.id).first == "item004.jpg")
    #expect(results.count == 2)
    #expect(
      try CLIRunner.run(["search", "--image", query, "--store", store]).status == 1, "clip-tiny refused now")
  }

  /// `index` keeps a thumbnail of each image (a JPEG, longest side 256 at most), and none
  /// with --no-thumbnails.
  @Test func indexKeepsThumbnails() async throws {
    let photos = folder.appendingPathComponent("photos")
    try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
    for name in ["item000.jpg", "item004.jpg"] {
      try FileManager.default.copyItem(
        at: CLIRunner.indexFolder.appendingPathComponent(name), to: photos.appendingPathComponent(name))
    }
    let plain = folder.appendingPathComponent("plain.sqlite").path
    #expect(try CLIRunner.run(["index", photos.path, "--store", store]).status == 0)
    #expect(try CLIRunner.run(["index", photos.path, "--store", plain, "--no-thumbnails"]).status == 0)
    let catalog = try SQLiteCatalog.openExisting(path: store, readOnly: true)
    for id in ["item000.jpg", "item004.jpg"] {
      let thumbnail = try #require(try await catalog.thumbnail(id: id))
      #expect(thumbnail.starts(with: [0xFF, 0xD8]), "a JPEG")
      #expect(thumbnail.count < 30_000)
    }
    #expect(
      try await SQLiteCatalog.openExisting(path: plain, readOnly: true).thumbnail(id: "item000.jpg") == nil)
  }

  @Test func sidecarEntriesMustBeObjects() throws {
    let sidecar = folder.appendingPathComponent("meta.json")
    try Data(#"{"item000.jpg": [1, 2]}"#.utf8).write(to: sidecar)
    let result = try CLIRunner.run([
      "index", CLIRunner.indexFolder.path, "--store", store, "--metadata-from", sidecar.path,
    ])
    #expect(result.status == 1)
    #expect(result.stderr.contains("metadata for each path must be a JSON object"))
    #expect(!FileManager.default.fileExists(atPath: store), "refused before touching the catalog")
  }

  @Test func missingFolderOrFileIsAClearError() throws {
    let missing = try CLIRunner.run(["index", "/nonexistent/photos", "--store", store])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("/nonexistent/photos: no such file or directory"))
    let file = try CLIRunner.run(["index", CLIRunner.indexFolder.appendingPathComponent("item000.jpg").path])
    #expect(file.stderr.contains("is not a directory"))
  }

  @Test func unreadableSubfolderIsReportedAndTheRestIndexed() throws {
    let photos = folder.appendingPathComponent("photos")
    let locked = photos.appendingPathComponent("locked")
    try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
    for name in ["item000.jpg", "item004.jpg"] {
      try FileManager.default.copyItem(
        at: CLIRunner.indexFolder.appendingPathComponent(name), to: photos.appendingPathComponent(name))
    }
    try FileManager.default.copyItem(
      at: CLIRunner.indexFolder.appendingPathComponent("item008.jpg"),
      to: locked.appendingPathComponent("item008.jpg"))
    try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: folder.path)
    try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: locked.path)
    // Root reads every folder whatever its mode: run as `nobody` then.
    let prefix =
      getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
    let result = try CLIRunner.run(["index", photos.path, "--store", store], prefix: prefix)
    #expect(result.status == 2, "\(result.stderr)")
    #expect(result.stdout.contains("failed locked: cannot list the folder"))
    #expect(result.lines.filter { $0.hasPrefix("stored ") }.count == 2)
  }

  @Test func unknownFilterFieldIsAClearError() throws {
    _ = try CLIRunner.run(["index", CLIRunner.indexFolder.path, "--store", store])
    let result = try CLIRunner.run([
      "search", "--text", "a red shoe", "--store", store, "--filter", "colour=red",
    ])
    #expect(result.status == 1)
    #expect(result.stderr.contains("unknown filter field 'colour'"))
  }
}
