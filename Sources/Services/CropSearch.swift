import Catalog
import Imaging

/// Detect-then-search: crops each detected object from the original image (with a margin),
/// embeds the crops with CLIP in batches, and attaches the catalog's nearest items.
public struct CropSearch: Sendable {
  /// Embeds a batch of crops: the model directly (CLI), or through the server's batcher.
  public typealias Embed = @Sendable ([RGBImage]) async throws -> [[Float]]

  public let embedImages: Embed
  public let store: any CatalogStore
  /// Margin around each box, as a fraction of its width and height: a little context helps
  /// CLIP recognise the object.
  public var margin: Float
  /// Most crops embedded in one run, bounding memory on images with hundreds of detections.
  public var maxBatch: Int
  public static let defaultMargin: Float = 0.1

  public init(
    embedImages: @escaping Embed, store: any CatalogStore, margin: Float = defaultMargin, maxBatch: Int = 32
  ) {
    self.embedImages = embedImages
    self.store = store
    self.margin = margin
    self.maxBatch = max(1, maxBatch)
  }

  /// `objects` with `matches` set (top `k`) for the first `limit` of those whose class is in
  /// `classes` (all when nil); the others are returned unchanged.
  public func attachMatches(
    to objects: [DetectedObject], in image: RGBImage, k: Int, classes: Set<Int>? = nil, limit: Int = .max,
    filter: SearchFilter = SearchFilter()
  ) async throws -> [DetectedObject] {
    let selected = objects.indices.filter { classes?.contains(objects[$0].classID) ?? true }.prefix(limit)
    let crops = selected.map { crop(objects[$0], from: image) }
    let embeddings = try await embed(crops)
    var result = objects
    for (index, embedding) in zip(selected, embeddings) {
      result[index].matches = try await store.search(vector: embedding, k: k, filter: filter)
    }
    return result
  }

  /// The object's pixels from the original image, grown by `margin`.
  public func crop(_ object: DetectedObject, from image: RGBImage) -> RGBImage {
    image.cropped(x1: object.box.x1, y1: object.box.y1, x2: object.box.x2, y2: object.box.y2, margin: margin)
  }

  /// Embeddings in batches of `maxBatch`, in order.
  func embed(_ crops: [RGBImage]) async throws -> [[Float]] {
    var embeddings: [[Float]] = []
    for start in stride(from: 0, to: crops.count, by: maxBatch) {
      embeddings += try await embedImages(Array(crops[start..<min(start + maxBatch, crops.count)]))
    }
    return embeddings
  }
}
