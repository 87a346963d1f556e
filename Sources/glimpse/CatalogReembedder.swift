import CLIP
import Catalog
import Foundation
import Imaging
import Services

/// `glimpse index --reembed`: embeds every item of a catalog again with another model, from
/// the source file the item was indexed from, then switches the catalog to that model in one
/// transaction (`CatalogStore.changeModel`).
///
/// An item can be embedded again only from the very content it was made from: one without a
/// source file (added through the API), whose file is gone, or whose file changed since (its
/// SHA-256 differs from the stored content hash) is reported as left behind. Those are removed
/// only with `dropLeftBehind`; otherwise nothing is changed, since an embedding of the old
/// model cannot stay in a catalog of the new one. An object found inside an image (`index
/// --objects`) is embedded again from its crop of its parent's source file.
struct CatalogReembedder {
  struct LeftBehind: Sendable {
    var id: String
    var reason: String
  }

  struct Outcome {
    var change: ModelChange
    var leftBehind: [LeftBehind]
  }

  let clip: CLIPModel
  let store: any CatalogStore
  let batchSize: Int
  var progress: (Int) -> Void = { _ in }

  /// Reads the catalog page by page and embeds what it can; changes nothing.
  func embedAll() async throws -> Outcome {
    var embeddings: [String: [Float]] = [:]
    var leftBehind: [LeftBehind] = []
    var cursor: String?
    repeat {
      let page = try await store.list(cursor: cursor, limit: batchSize)
      let (embedded, missed) = try await embed(page.items)
      embeddings.merge(embedded) { _, new in new }
      leftBehind += missed
      progress(embeddings.count + leftBehind.count)
      cursor = page.nextCursor
    } while cursor != nil
    let change = ModelChange(
      model: clip.bundle.name, dimension: clip.dimension, embeddings: embeddings,
      removed: leftBehind.map(\.id))
    return Outcome(change: change, leftBehind: leftBehind)
  }

  private func embed(_ items: [CatalogItem]) async throws
    -> (embedded: [String: [Float]], leftBehind: [LeftBehind])
  {
    var images: [(id: String, image: RGBImage)] = []
    var leftBehind: [LeftBehind] = []
    for item in items {
      switch try await source(of: item) {
      case .success(let image): images.append((item.id, image))
      case .failure(let problem): leftBehind.append(LeftBehind(id: item.id, reason: problem.reason))
      }
    }
    guard !images.isEmpty else { return ([:], leftBehind) }
    let vectors = try clip.embedImages(images.map(\.image))
    return (Dictionary(uniqueKeysWithValues: zip(images.map(\.id), vectors)), leftBehind)
  }

  private struct SourceProblem: Error {
    var reason: String
  }

  /// The image the item was embedded from: its source file, or for an object its crop (with
  /// the margin `index --objects` used) of its parent's source file decoded at full size.
  private func source(of item: CatalogItem) async throws -> Result<RGBImage, SourceProblem> {
    guard let parentID = item.parentID, let box = item.object else { return decodedSource(of: item) }
    guard let parent = try await store.get(id: parentID) else {
      return .failure(SourceProblem(reason: "its image \(parentID) is gone"))
    }
    return decodedSource(of: parent, fullSize: true).map {
      $0.cropped(x1: box.x1, y1: box.y1, x2: box.x2, y2: box.y2, margin: CropSearch.defaultMargin)
    }
  }

  /// The item's source file, decoded as `glimpse index` decodes it (`fullSize` for objects).
  private func decodedSource(of item: CatalogItem, fullSize: Bool = false) -> Result<RGBImage, SourceProblem>
  {
    guard let path = item.sourcePath else {
      return .failure(SourceProblem(reason: "no source file recorded"))
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      return .failure(SourceProblem(reason: "source file \(path) is gone or unreadable"))
    }
    if let hash = item.contentHash, ContentHash.sha256Hex(data) != hash {
      return .failure(SourceProblem(reason: "source file \(path) changed since it was indexed"))
    }
    do {
      return .success(try VisualSearchService.decoder(for: clip, fullSize: fullSize).decode(data))
    } catch {
      return .failure(SourceProblem(reason: "source file \(path) cannot be decoded: \(error)"))
    }
  }
}
