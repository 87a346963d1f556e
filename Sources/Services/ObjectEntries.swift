import Catalog
import Imaging

/// Objects inside catalog images (`glimpse index --objects`, `POST /v1/items?objects=true`):
/// each detected object becomes an item of its own, embedded from its crop (the same crop
/// detect-then-search embeds), and stored with its parent's id and its box.
extension CropSearch {
  /// The object entries of `parent` for the `objects` detected in its `image` (decoded at full
  /// size: boxes are in its pixels), ids `PARENT#object-N` in the detector's order. They
  /// carry the parent's tags and metadata, so that a filtered search finds them too, and no
  /// content hash, so that they are never taken for a copy of another file.
  public func objectEntries(of parent: CatalogItem, objects: [DetectedObject], in image: RGBImage)
    async throws -> [CatalogItem]
  {
    let embeddings = try await embed(objects.map { crop($0, from: image) })
    return zip(objects.indices, embeddings).map { index, embedding in
      let object = objects[index]
      return CatalogItem(
        id: Self.objectID(parent: parent.id, index: index), embedding: embedding, metadata: parent.metadata,
        tags: parent.tags, parentID: parent.id,
        object: ObjectRegion(
          x1: object.box.x1, y1: object.box.y1, x2: object.box.x2, y2: object.box.y2, label: object.label,
          classID: object.classID, confidence: object.confidence))
    }
  }

  /// Stores the object entries of `parent` in place of its old ones (one transaction) and
  /// returns them.
  public func replaceObjects(of parent: CatalogItem, with objects: [DetectedObject], in image: RGBImage)
    async throws -> [CatalogItem]
  {
    let entries = try await objectEntries(of: parent, objects: objects, in: image)
    try await store.replaceObjects(parentID: parent.id, with: entries)
    return entries
  }

  /// `PARENT#object-N`.
  public static func objectID(parent: String, index: Int) -> String {
    "\(parent)#object-\(index)"
  }
}
