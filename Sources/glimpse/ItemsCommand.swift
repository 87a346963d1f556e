import ArgumentParser
import Catalog
import Foundation

/// `glimpse items`: read and delete catalog items without loading a model.
struct Items: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Get, delete, list and count catalog items.",
    subcommands: [Get.self, Delete.self, List.self, Count.self])

  struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print one item as JSON.")
    @Argument(help: "The item id.") var id: String
    @Flag(help: "Include the embedding vector.") var withEmbedding = false
    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
      let store = try await storeOptions.openExisting(readOnly: true)
      let item = try await store.get(id: id)
      await closeStore(store)
      guard let item else { throw CLIError("no item with id '\(id)'") }
      try printJSON(ItemRecord(item, withEmbedding: withEmbedding))
    }
  }

  struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete items by id.")
    @Argument(help: "Item ids.") var ids: [String]
    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
      let store = try await storeOptions.openExisting()
      var missing: [String] = []
      for id in ids {
        if try await store.delete(id: id) { print("deleted \(id)") } else { missing.append(id) }
      }
      await closeStore(store)
      if !missing.isEmpty { throw CLIError("no item with id: \(missing.joined(separator: ", "))") }
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List items in id order, a page at a time.")
    @Option(help: "Start after this id (the previous page's next cursor).") var cursor: String?
    @Option(help: "Items per page (1…10000).") var limit = 100
    @Flag(help: "Print the page as JSON with its next cursor.") var json = false
    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
      guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1…10000") }
    }

    func run() async throws {
      let store = try await storeOptions.openExisting(readOnly: true)
      let page = try await store.list(cursor: cursor, limit: limit)
      await closeStore(store)
      if json {
        try printJSON(PageRecord(items: page.items.map { ItemRecord($0) }, nextCursor: page.nextCursor))
        return
      }
      for item in page.items { print(item.id) }
      if let next = page.nextCursor { printError("more: --cursor \(next)") }
    }
  }

  struct Count: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the number of items.")
    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
      let store = try await storeOptions.openExisting(readOnly: true)
      let count = try await store.count()
      await closeStore(store)
      print(count)
    }
  }
}

/// An item as the CLI (and the HTTP API) shows it: the embedding only on request.
struct ItemRecord: Encodable {
  var id: String
  var metadata: [String: JSONValue]
  var tags: [String]
  var sourcePath: String?
  var contentHash: String?
  var createdAt: Date
  var updatedAt: Date
  var embedding: [Float]?
  /// Set for an object found inside another item's image (`index --objects`).
  var parentID: String?
  var object: ObjectRegion?

  init(_ item: CatalogItem, withEmbedding: Bool = false) {
    id = item.id
    metadata = item.metadata
    tags = item.tags
    sourcePath = item.sourcePath
    contentHash = item.contentHash
    createdAt = item.createdAt
    updatedAt = item.updatedAt
    embedding = withEmbedding ? item.embedding : nil
    parentID = item.parentID
    object = item.object
  }
}

struct PageRecord: Encodable {
  var items: [ItemRecord]
  var nextCursor: String?
}
