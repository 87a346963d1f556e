import CLIP
import Catalog
import Detection
import Foundation
import Imaging
import Services
import Synchronization

/// Indexes image files into the catalog in batches: while one batch runs through CLIP, the
/// next is read, hashed and decoded on the other cores. Each batch is one store transaction.
struct FolderIndexer: Sendable {
  /// CLIP (called directly) and the catalog.
  let visual: VisualSearchService
  let tags: [String]
  let metadata: [String: [String: JSONValue]]
  let batchSize: Int
  /// Whether each newly embedded file gets a thumbnail (`Thumbnail`) stored with it.
  let thumbnails: Bool
  /// With `--objects`: each newly embedded image's objects are stored as items of their own.
  var objects: ObjectIndexing? = nil

  /// One file after reading, hashing and (if it needs embedding) decoding.
  struct PreparedFile: Sendable {
    enum State: Sendable {
      case unchanged(CatalogItem)
      /// The embedding (and thumbnail) of an item with the same content.
      case reuse([Float], thumbnail: Data?)
      case decoded(RGBImage)
      case failed(String)
    }
    let file: ImageFile
    let contentHash: String
    let state: State
  }

  func run(_ files: [ImageFile], report: (IndexOutcome) -> Void) async throws {
    let batches = stride(from: 0, to: files.count, by: batchSize).map {
      Array(files[$0..<min($0 + batchSize, files.count)])
    }
    guard !batches.isEmpty else { return }
    var next = Task { try await prepare(batches[0]) }
    for index in batches.indices {
      let current = try await next.value
      if index + 1 < batches.count {
        let following = batches[index + 1]
        next = Task { try await prepare(following) }
      }
      try await embedAndStore(current, report: report)
    }
  }

  // MARK: Preparing a batch

  private func prepare(_ batch: [ImageFile]) async throws -> [PreparedFile] {
    let contents = readAndHash(batch)
    var needsDecoding: [Int] = []
    var states: [PreparedFile.State?] = Array(repeating: nil, count: batch.count)
    for (index, file) in batch.enumerated() {
      guard let (_, hash) = contents[index] else {
        states[index] = .failed("cannot read the file")
        continue
      }
      if let existing = try await store.get(id: file.relativePath), existing.contentHash == hash {
        states[index] = .unchanged(existing)
      } else if let twin = try await store.ids(withContentHash: hash).first,
        let twinItem = try await store.get(id: twin)
      {
        states[index] = .reuse(twinItem.embedding, thumbnail: try await store.thumbnail(id: twin))
      } else {
        needsDecoding.append(index)
      }
    }
    let decoded = decode(needsDecoding.map { contents[$0]!.data })
    for (position, index) in needsDecoding.enumerated() { states[index] = decoded[position] }
    return batch.indices.map {
      PreparedFile(file: batch[$0], contentHash: contents[$0]?.hash ?? "", state: states[$0]!)
    }
  }

  private func readAndHash(_ batch: [ImageFile]) -> [(data: Data, hash: String)?] {
    concurrentMap(batch) { file in
      FileManager.default.contents(atPath: file.url.path).map { ($0, ContentHash.sha256Hex($0)) }
    }
  }

  private func decode(_ files: [Data]) -> [PreparedFile.State] {
    // Object boxes are in the image's own pixels: the detector needs it at full size.
    let decoder = visual.decoder(fullSize: objects != nil)
    return concurrentMap(files) { data in
      do {
        return .decoded(try decoder.decode(data))
      } catch {
        return .failed("\(error)")
      }
    }
  }

  // MARK: Embedding and storing a batch

  private func embedAndStore(_ batch: [PreparedFile], report: (IndexOutcome) -> Void) async throws {
    var items: [CatalogItem] = []
    var outcomes: [IndexOutcome] = []
    let toEmbed = batch.compactMap { prepared -> (ImageFile, String, RGBImage)? in
      if case .decoded(let image) = prepared.state { return (prepared.file, prepared.contentHash, image) }
      return nil
    }
    let embeddings = try await embed(toEmbed.map(\.2))
    let newThumbnails = makeThumbnails(toEmbed.map(\.2))
    for ((entry, embedding), thumbnail) in zip(zip(toEmbed, embeddings), newThumbnails) {
      var newItem = item(entry.0, hash: entry.1, embedding: embedding)
      newItem.thumbnail = thumbnail
      items.append(newItem)
      outcomes.append(.stored(id: entry.0.relativePath, reusedEmbedding: false))
    }
    let others = itemsNotEmbedded(batch)
    items += others.items
    outcomes += others.outcomes
    if !items.isEmpty { try await store.upsert(items) }
    if let objects {
      // The newly embedded images come first in `items`, in `toEmbed`'s order.
      for (entry, parent) in zip(toEmbed, items) {
        try await objects.store(of: parent, image: entry.2)
      }
    }
    outcomes.forEach(report)
  }

  /// The items to store and the outcomes of the files not embedded in this batch: reused
  /// embeddings, unchanged files (stored again only when their metadata or tags changed), and
  /// failures.
  private func itemsNotEmbedded(_ batch: [PreparedFile]) -> (items: [CatalogItem], outcomes: [IndexOutcome]) {
    var items: [CatalogItem] = []
    var outcomes: [IndexOutcome] = []
    for prepared in batch {
      switch prepared.state {
      case .decoded: break
      case .reuse(let embedding, let thumbnail):
        var reused = item(prepared.file, hash: prepared.contentHash, embedding: embedding)
        reused.thumbnail = thumbnails ? thumbnail : nil
        items.append(reused)
        outcomes.append(.stored(id: prepared.file.relativePath, reusedEmbedding: true))
      case .unchanged(let existing):
        let wanted = item(prepared.file, hash: prepared.contentHash, embedding: existing.embedding)
        let changed = wanted.metadata != existing.metadata || wanted.tags != existing.tags
        if changed { items.append(wanted) }
        outcomes.append(.unchanged(id: existing.id, metadataUpdated: changed))
      case .failed(let reason):
        outcomes.append(.failed(path: prepared.file.relativePath, reason: reason))
      }
    }
    return (items, outcomes)
  }

  /// One JPEG per image (nil where thumbnails are off or encoding failed: the item is stored
  /// without one), encoded on every core.
  private func makeThumbnails(_ images: [RGBImage]) -> [Data?] {
    guard thumbnails else { return images.map { _ in nil } }
    return concurrentMap(images) { try? Thumbnail.jpeg(of: $0) }
  }

  private func embed(_ images: [RGBImage]) async throws -> [[Float]] {
    guard !images.isEmpty else { return [] }
    return try await visual.embed(images: images)
  }

  private var store: any CatalogStore { visual.store }

  private func item(_ file: ImageFile, hash: String, embedding: [Float]) -> CatalogItem {
    CatalogItem(
      id: file.relativePath, embedding: embedding, metadata: metadata[file.relativePath] ?? [:], tags: tags,
      sourcePath: file.url.path, contentHash: hash)
  }
}

/// `transform` applied to every element on all cores (GCD's `concurrentPerform`), the results
/// in the elements' order.
func concurrentMap<Element: Sendable, Result: Sendable>(
  _ elements: [Element], _ transform: @Sendable (Element) -> Result
) -> [Result] {
  let results = Mutex([Result?](repeating: nil, count: elements.count))
  DispatchQueue.concurrentPerform(iterations: elements.count) { index in
    let value = transform(elements[index])
    results.withLock { $0[index] = value }
  }
  return results.withLock { $0.map { $0! } }
}

/// `glimpse index --objects`: the detector and the crops' embedder.
struct ObjectIndexing: Sendable {
  let service: ObjectDetectionService
  let options: DetectionOptions
  let crops: CropSearch

  /// Detects the objects in `parent`'s image and replaces its stored objects with them.
  func store(of parent: CatalogItem, image: RGBImage) async throws {
    _ = try await service.replaceObjects(of: parent, image: image, options: options, crops: crops)
  }
}
