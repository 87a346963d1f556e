import Foundation

/// One catalog entry: an embedded image (or any vector) with its metadata.
public struct CatalogItem: Sendable, Equatable, Codable {
  public var id: String
  public var embedding: [Float]
  public var metadata: [String: JSONValue]
  public var tags: [String]
  public var sourcePath: String?
  public var contentHash: String?
  public var createdAt: Date
  public var updatedAt: Date
  /// A small JPEG of the item's image (`Thumbnail`), written with the item when set. It is kept
  /// with the content hash it was made for and served only while the item has that hash, so an
  /// item written again without one (metadata changes) keeps it, and one given another image
  /// without one loses it. Never part of the item's JSON: `thumbnail(id:)` reads it.
  public var thumbnail: Data?
  /// The item holding the image this item is an object of (`glimpse index --objects`); deleting
  /// that item deletes this one.
  public var parentID: String?
  /// Where in its parent's image this object is, and what the detector saw.
  public var object: ObjectRegion?

  enum CodingKeys: String, CodingKey {
    case id, embedding, metadata, tags, sourcePath, contentHash, createdAt, updatedAt, parentID, object
  }

  public init(
    id: String = UUID().uuidString.lowercased(), embedding: [Float], metadata: [String: JSONValue] = [:],
    tags: [String] = [], sourcePath: String? = nil, contentHash: String? = nil,
    createdAt: Date = Date(), updatedAt: Date = Date(), thumbnail: Data? = nil,
    parentID: String? = nil, object: ObjectRegion? = nil
  ) {
    self.id = id
    self.embedding = embedding
    self.metadata = metadata
    self.tags = tags
    self.sourcePath = sourcePath
    self.contentHash = contentHash
    self.createdAt = createdAt
    self.updatedAt = updatedAt
    self.thumbnail = thumbnail
    self.parentID = parentID
    self.object = object
  }
}

/// An object found inside a catalog image: its box in the parent image's pixels (corners) and
/// the detector's class and confidence.
public struct ObjectRegion: Sendable, Equatable, Codable {
  public var x1: Float
  public var y1: Float
  public var x2: Float
  public var y2: Float
  public var label: String
  public var classID: Int
  public var confidence: Float

  enum CodingKeys: String, CodingKey {
    case x1, y1, x2, y2, label, confidence
    case classID = "class_id"
  }

  public init(x1: Float, y1: Float, x2: Float, y2: Float, label: String, classID: Int, confidence: Float) {
    self.x1 = x1
    self.y1 = y1
    self.x2 = x2
    self.y2 = y2
    self.label = label
    self.classID = classID
    self.confidence = confidence
  }

  /// The JSON stored in the catalogs' `object` column.
  public func jsonText() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }

  public init(jsonText: String) throws {
    self = try JSONDecoder().decode(Self.self, from: Data(jsonText.utf8))
  }
}

/// Which items a search may return: all `tags` present, and each metadata field equal to
/// one of its allowed values (`equals` is `in` with one value).
public struct SearchFilter: Sendable, Equatable, Codable {
  public var tags: [String]
  public var metadata: [String: [JSONValue]]

  public init(tags: [String] = [], metadata: [String: [JSONValue]] = [:]) {
    self.tags = tags
    self.metadata = metadata
  }

  public var isEmpty: Bool { tags.isEmpty && metadata.isEmpty }

  func accepts(tags itemTags: [String], metadata itemMetadata: [String: JSONValue]) -> Bool {
    tags.allSatisfy(itemTags.contains)
      && metadata.allSatisfy { field, allowed in itemMetadata[field].map(allowed.contains) ?? false }
  }
}

public struct SearchResult: Sendable, Equatable, Codable {
  public var id: String
  /// Cosine similarity (vectors are stored normalized).
  public var score: Float
  public var metadata: [String: JSONValue]
  /// Set when the hit is an object inside another item's image.
  public var parentID: String?
  public var object: ObjectRegion?

  enum CodingKeys: String, CodingKey {
    case id, score, metadata, object
    case parentID = "parent_id"
  }

  public init(
    id: String, score: Float, metadata: [String: JSONValue], parentID: String? = nil,
    object: ObjectRegion? = nil
  ) {
    self.id = id
    self.score = score
    self.metadata = metadata
    self.parentID = parentID
    self.object = object
  }

  /// The item this hit stands for when results are grouped by parent: its parent, or itself.
  public var groupID: String { parentID ?? id }
}

/// A page of `list`, with the cursor of the next page (nil at the end).
public struct ItemPage: Sendable {
  public var items: [CatalogItem]
  public var nextCursor: String?

  public init(items: [CatalogItem], nextCursor: String?) {
    self.items = items
    self.nextCursor = nextCursor
  }
}

/// A catalog's move to another model: a new embedding for each item that could be embedded
/// again, by id, and the ids of those that could not (their source file is gone), removed.
/// Every item of the catalog must be in one of the two, so that no embedding of the old model
/// is left beside the new ones.
public struct ModelChange: Sendable {
  public var model: String
  public var dimension: Int
  public var embeddings: [String: [Float]]
  public var removed: [String]

  public init(model: String, dimension: Int, embeddings: [String: [Float]], removed: [String]) {
    self.model = model
    self.dimension = dimension
    self.embeddings = embeddings
    self.removed = removed
  }

  /// The new embeddings, checked and normalized as every stored vector is.
  public func validatedEmbeddings() throws -> [(id: String, embedding: [Float])] {
    try embeddings.sorted { $0.key < $1.key }.map {
      ($0.key, try validatedVector($0.value, dimension: dimension))
    }
  }

  /// Throws when the catalog holds `count` items, not one per id of this change.
  public func checkCovers(itemCount count: Int) throws {
    guard count == embeddings.count + removed.count else {
      throw Self.changedMeanwhile(
        "\(count) items now, \(embeddings.count + removed.count) re-embedded or removed")
    }
  }

  /// Another writer added or removed items while they were embedded again.
  public static func changedMeanwhile(_ detail: String) -> CatalogError {
    .invalidRequest("the catalog changed while it was re-embedded (\(detail)): run it again")
  }
}

public enum CatalogError: Error, Equatable, CustomStringConvertible {
  case dimensionMismatch(expected: Int, got: Int)
  case modelMismatch(catalog: String, requested: String)
  case invalidVector(String)
  case invalidMetadata(String)
  case unknownFilterField(String, known: [String])
  case invalidRequest(String)
  case storage(String)
  /// The catalog's database cannot be reached (or answer in time); retrying later may work.
  case unavailable(String)
  /// The embedded catalog is held by another process.
  case locked(String)

  public var description: String {
    switch self {
    case .dimensionMismatch(let expected, let got):
      "vector has \(got) dimensions, the catalog holds \(expected)-dimensional embeddings"
    case .modelMismatch(let catalog, let requested):
      "the catalog holds embeddings of model \(catalog), not \(requested): re-embed it for \(requested) with `glimpse index --reembed` and that model, or use another --store"
    case .invalidVector(let problem): "invalid vector: \(problem)"
    case .invalidMetadata(let problem): "invalid metadata: \(problem)"
    case .unknownFilterField(let field, let known):
      "unknown filter field '\(field)' (metadata fields in this catalog: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
    case .invalidRequest(let problem): problem
    case .storage(let problem): "catalog storage error: \(problem)"
    case .unavailable(let problem): "the catalog is unavailable: \(problem)"
    case .locked(let problem): problem
    }
  }
}

/// A catalog of embedded items. The embedded SQLite store and the PostgreSQL store both
/// implement it and pass the same test suite.
public protocol CatalogStore: Sendable {
  /// The model whose embeddings the catalog holds, and their dimension.
  var model: String { get }
  var dimension: Int { get }

  func upsert(_ items: [CatalogItem]) async throws
  /// Inserts `item` only if no item has its id, atomically: of concurrent creates of one id,
  /// exactly one returns `.created`. With `idempotency`, a create retried under the same key
  /// returns the first answer instead.
  func create(_ item: CatalogItem, idempotency: IdempotentRequest?) async throws -> CreateOutcome
  func get(id: String) async throws -> CatalogItem?
  /// The item's thumbnail (JPEG), nil when it has none for its current content.
  func thumbnail(id: String) async throws -> Data?
  /// Deletes the item and the objects inside it (items whose `parentID` is `id`).
  @discardableResult func delete(id: String) async throws -> Bool
  /// Replaces the objects of item `parentID` with `objects` in one transaction: the old ones
  /// are deleted, the new ones (each with `parentID` set to it) written.
  func replaceObjects(parentID: String, with objects: [CatalogItem]) async throws
  func list(cursor: String?, limit: Int) async throws -> ItemPage
  func count() async throws -> Int
  func search(vector: [Float], k: Int, filter: SearchFilter) async throws -> [SearchResult]
  /// Ids of items with this content hash (`glimpse index` skips files already stored).
  func ids(withContentHash hash: String) async throws -> [String]
  /// Switches the catalog to another model (`glimpse index --reembed`), in one transaction:
  /// every item gets its new embedding or is removed, and the catalog records the new model.
  /// The store object keeps the old model afterwards: open the catalog again to use it.
  func changeModel(_ change: ModelChange) async throws
  /// Throws `.unavailable` while the catalog's database cannot be reached (for `/readyz`).
  func checkAvailable() async throws
  /// The catalog's state (`/v1/hardware`, `/metrics`).
  var status: CatalogStatus { get }
  /// Reports each call to `observer` from now on (the server's metrics).
  func observeCalls(_ observer: @escaping CatalogCallObserver)
}

extension CatalogStore {
  /// An embedded catalog is reachable whenever it is open.
  public func checkAvailable() async throws {}
  public var status: CatalogStatus { CatalogStatus(kind: "sqlite") }
  /// The embedded catalog's calls are local and not reported.
  public func observeCalls(_ observer: @escaping CatalogCallObserver) {}
}

/// Checks shared by every store: dimension, finite values, non-zero length; returns the
/// vector normalized so that dot products are cosines.
public func validatedVector(_ vector: [Float], dimension: Int) throws -> [Float] {
  guard vector.count == dimension else {
    throw CatalogError.dimensionMismatch(expected: dimension, got: vector.count)
  }
  guard vector.allSatisfy(\.isFinite) else { throw CatalogError.invalidVector("NaN or infinite value") }
  let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
  guard norm > 0 else { throw CatalogError.invalidVector("all zeros") }
  return vector.map { $0 / norm }
}
