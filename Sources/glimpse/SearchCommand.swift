import ArgumentParser
import Catalog
import Foundation
import Imaging
import Logging
import Services

/// `glimpse search`: the catalog items most similar to an image or a sentence.
struct Search: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Search the catalog with an image (--image) or a sentence (--text).")

  @Option(help: "A query image file.")
  var image: String?

  @Option(help: "A query sentence.")
  var text: String?

  @Option(name: .short, help: "Number of results (1…1000).")
  var k = 10

  @Option(
    name: .customLong("filter"),
    help:
      "Metadata filter FIELD=VALUE[,VALUE…] (any of the values; JSON values like 42 or true typed). Repeatable."
  )
  var filters: [String] = []

  @Option(name: .customLong("tag"), help: "Only items carrying this tag. Repeatable.")
  var tags: [String] = []

  @Flag(help: "One result per image: an object found inside an image (index --objects) stands for it.")
  var groupByParent = false

  @Flag(help: "Print the results as JSON.")
  var json = false

  @OptionGroup var model: CLIPModelOptions
  @OptionGroup var storeOptions: StoreOptions
  @OptionGroup var server: RemoteServerOptions

  func validate() throws {
    guard (image == nil) != (text == nil) else {
      throw ValidationError("give exactly one of --image or --text")
    }
    guard (1...1000).contains(k) else { throw ValidationError("-k must be between 1 and 1000") }
    _ = try SearchFilterParser.parse(filters: filters, tags: tags)
    try server.refuse([("--model", model.modelFolder != nil)])
  }

  func run() async throws {
    let filter = try SearchFilterParser.parse(filters: filters, tags: tags)
    let (results, took): ([SearchResult], Duration)
    if let client = try server.client() {
      let start = ContinuousClock.now
      results = try await runRemote(client, filter: filter)
      took = start.duration(to: .now)
    } else {
      (results, took) = try await searchLocal(filter)
    }
    if json {
      try printJSON(results)
      return
    }
    for (rank, result) in results.enumerated() {
      let metadata = result.metadata.isEmpty ? "" : "  \(JSONValue.object(result.metadata))"
      print(String(format: "%2d. %.4f  ", rank + 1, result.score) + result.id + objectText(result) + metadata)
    }
    printError("\(results.count) results in \(took)")
  }

  /// The results and the time the catalog search took.
  private func searchLocal(_ filter: SearchFilter) async throws -> ([SearchResult], Duration) {
    let logger = model.logger("glimpse.search")
    let (clip, _) = try model.load(logger: logger)
    let store = try await storeOptions.open(
      model: clip.bundle.name, dimension: clip.dimension, readOnly: true)
    let visual = VisualSearchService(clip: clip, store: store)
    let query: [Float]
    if let text {
      query = try await visual.embed(texts: [text])[0]
    } else {
      query = try await visual.embed(images: [decodeQueryImage(image!, decoder: visual.decoder())])[0]
    }
    let start = ContinuousClock.now
    do {
      let results = try await visual.search(vector: query, k: k, filter: filter, groupByParent: groupByParent)
      let took = start.duration(to: .now)
      await closeStore(store)
      return (results, took)
    } catch let error as CatalogError {
      await closeStore(store)
      throw CLIError("\(error)")
    }
  }
}

/// "  (label in PARENT at x1,y1-x2,y2)" for an object entry, "" otherwise.
private func objectText(_ result: SearchResult) -> String {
  guard let parent = result.parentID, let object = result.object else { return "" }
  let box = [object.x1, object.y1, object.x2, object.y2].map { String(format: "%.0f", $0) }
  return "  (\(object.label) in \(parent) at \(box[0]),\(box[1])-\(box[2]),\(box[3]))"
}

func decodeQueryImage(_ path: String, decoder: ImageDecoder) throws -> RGBImage {
  guard let data = FileManager.default.contents(atPath: path) else {
    throw CLIError("cannot read image \(path)")
  }
  do {
    return try decoder.decode(data)
  } catch {
    throw CLIError("\(path): \(error)")
  }
}

/// Turns `--filter color=red,blue` and `--tag shoe` into a `SearchFilter`.
enum SearchFilterParser {
  static func parse(filters: [String], tags: [String]) throws -> SearchFilter {
    var metadata: [String: [JSONValue]] = [:]
    for filter in filters {
      guard let equals = filter.firstIndex(of: "="), equals != filter.startIndex else {
        throw ValidationError("--filter '\(filter)' is not FIELD=VALUE[,VALUE…]")
      }
      let field = String(filter[..<equals])
      let values = filter[filter.index(after: equals)...].split(
        separator: ",", omittingEmptySubsequences: false)
      metadata[field, default: []] += values.map { typedValue(String($0)) }
    }
    return SearchFilter(tags: tags, metadata: metadata)
  }

  /// `42`, `true`, `null`, `"quoted"` read as JSON; anything else is a string.
  static func typedValue(_ text: String) -> JSONValue {
    (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
  }
}
