import Catalog
import Foundation
import Imaging
import Services
import Testing

/// `glimpse index --objects`: objects inside the images as items of their own.
@Suite(.serialized) struct IndexObjectsTests {
  struct StoredItem: Decodable {
    var id: String
    var parentID: String?
    var object: ObjectRegion?
  }

  /// A search with an object's crop finds that object first, with its parent and box; deleting
  /// the parent deletes its objects.
  @Test func objectsAreFoundByTheirCropAndDeletedWithTheirImage() throws {
    let folder = try CLIRunner.temporaryFolder()
    let photos = folder.appendingPathComponent("photos")
    try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
    for name in ["street_1280x720.png", "portrait_480x640.png"] {
      try FileManager.default.copyItem(
        at: CLIRunner.detectionImages.appendingPathComponent(name), to: photos.appendingPathComponent(name))
    }
    let store = folder.appendingPathComponent("catalog.sqlite").path
    let index = try CLIRunner.run([
      "index", photos.path, "--store", store, "--objects", "--max-objects", "3", "--conf", "0.05",
      "--detector-model", CLIRunner.tinyDetector,
    ])
    #expect(index.status == 0, "\(index.stderr)")
    let objectCount = try #require(Int(try count(store))) - 2
    #expect((1...6).contains(objectCount), "at most 3 objects per image: \(objectCount)")

    let parent = "street_1280x720.png"
    let objectID = "\(parent)#object-0"
    let stored = try JSONDecoder().decode(
      StoredItem.self,
      from: Data(try CLIRunner.run(["items", "get", objectID, "--store", store]).stdout.utf8))
    #expect(stored.parentID == parent)
    let region = try #require(stored.object)
    #expect(region.x1 < region.x2 && region.y1 < region.y2 && region.x2 <= 1280 && region.y2 <= 720)

    let crop = folder.appendingPathComponent("crop.jpg")
    try writeCrop(of: region, from: photos.appendingPathComponent(parent), to: crop)
    let search = try CLIRunner.run(["search", "--image", crop.path, "-k", "3", "--store", store, "--json"])
    #expect(search.status == 0, "\(search.stderr)")
    let results = try JSONDecoder().decode([SearchResult].self, from: Data(search.stdout.utf8))
    #expect(results.first?.id == objectID, "\(results.map(\.id))")
    #expect(results.first?.parentID == parent)
    #expect(results.first?.object == region)

    let grouped = try CLIRunner.run([
      "search", "--image", crop.path, "-k", "2", "--group-by-parent", "--store", store, "--json",
    ])
    let groups = try JSONDecoder().decode([SearchResult].self, from: Data(grouped.stdout.utf8))
    #expect(groups.map(\.groupID).sorted() == ["portrait_480x640.png", parent])

    let before = try ids(store)
    #expect(try CLIRunner.run(["items", "delete", parent, "--store", store]).status == 0)
    let after = try ids(store)
    #expect(!after.contains { $0.hasPrefix(parent) }, "the image and its objects are gone")
    #expect(after == before.filter { !$0.hasPrefix(parent) }, "the other image keeps its objects")
    #expect(after.contains("portrait_480x640.png#object-0"))
  }

  /// `index --reembed` embeds objects again from their crop of their image's file.
  @Test func reembedKeepsTheObjects() throws {
    let folder = try CLIRunner.temporaryFolder()
    let photos = folder.appendingPathComponent("photos")
    try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
    let parent = "street_1280x720.png"
    try FileManager.default.copyItem(
      at: CLIRunner.detectionImages.appendingPathComponent(parent), to: photos.appendingPathComponent(parent))
    let store = folder.appendingPathComponent("catalog.sqlite").path
    let index = try CLIRunner.run([
      "index", photos.path, "--store", store, "--objects", "--max-objects", "2", "--conf", "0.05",
      "--detector-model", CLIRunner.tinyDetector,
    ])
    #expect(index.status == 0, "\(index.stderr)")
    let total = try #require(Int(try count(store)))
    let other = CLIRunner.packageRoot.appendingPathComponent("models/test/clip-tiny-dynamic").path
    let moved = try CLIRunner.run(["index", "--reembed", "--store", store, "--model", other])
    #expect(moved.status == 0, "\(moved.stdout) \(moved.stderr)")
    #expect(moved.stdout.contains("\(total) items re-embedded, 0 removed"))

    let objectID = "\(parent)#object-0"
    let stored = try JSONDecoder().decode(
      StoredItem.self,
      from: Data(try CLIRunner.run(["items", "get", objectID, "--store", store]).stdout.utf8))
    let crop = folder.appendingPathComponent("crop.jpg")
    try writeCrop(of: try #require(stored.object), from: photos.appendingPathComponent(parent), to: crop)
    let search = try CLIRunner.run([
      "search", "--image", crop.path, "-k", "1", "--store", store, "--model", other, "--json",
    ])
    let results = try JSONDecoder().decode([SearchResult].self, from: Data(search.stdout.utf8))
    #expect(results.first?.id == objectID && results.first?.parentID == parent, "\(results.map(\.id))")
  }

  private func ids(_ store: String) throws -> [String] {
    try CLIRunner.run(["items", "list", "--limit", "1000", "--store", store]).lines
  }

  private func count(_ store: String) throws -> String {
    try CLIRunner.run(["items", "count", "--store", store]).stdout.trimmingCharacters(
      in: .whitespacesAndNewlines)
  }

  /// The crop the indexer embeds (`CropSearch.crop`, with its margin), as a best-quality JPEG.
  private func writeCrop(of region: ObjectRegion, from image: URL, to file: URL) throws {
    let decoded = try ImageDecoder().decode(try Data(contentsOf: image))
    let cropped = decoded.cropped(
      x1: region.x1, y1: region.y1, x2: region.x2, y2: region.y2, margin: CropSearch.defaultMargin)
    try JPEGEncoder.write(cropped, to: file, quality: 100)
  }
}
