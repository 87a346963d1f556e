import CLIP
import Catalog
import Foundation
import Imaging
import ONNXRuntime

/// Visual search as the CLI and the server both run it: decode an image for CLIP, prepare it,
/// embed it (or a text), search the catalog. The model runs through the functions it is given:
/// the server's batchers, or the model directly on the command line.
public struct VisualSearchService: Sendable {
  /// Embeds decoded images, in order.
  public typealias EmbedImages = @Sendable ([RGBImage]) async throws -> [[Float]]
  /// Embeds prepared images (`CLIPModel.preparedImage`), in order: a batcher's input.
  public typealias EmbedPrepared = @Sendable ([Tensor]) async throws -> [[Float]]
  /// Embeds texts, in order.
  public typealias EmbedTexts = @Sendable ([String]) async throws -> [[Float]]

  public let clip: CLIPModel
  public let store: any CatalogStore
  public let steps: any ServiceSteps
  private let embedImageBatch: EmbedImages
  private let embedTextBatch: EmbedTexts

  /// The model called directly: each call is one model run (the command line).
  public init(clip: CLIPModel, store: any CatalogStore, steps: any ServiceSteps = InlineSteps()) {
    self.clip = clip
    self.store = store
    self.steps = steps
    embedImageBatch = { try clip.embedImages($0) }
    embedTextBatch = { try clip.embedTexts($0) }
  }

  /// Images prepared by `steps` where they arrive, in parallel with other requests and with
  /// the model run in progress, then handed to `embedPrepared` (the server's batcher, whose
  /// run then only copies). `prepare` is `CLIPModel.preparedImage` unless another path
  /// (the ONNX preprocessing graph on a GPU, docs/gpu.md) is given.
  public init(
    clip: CLIPModel, store: any CatalogStore, steps: any ServiceSteps,
    prepare: (@Sendable (RGBImage) throws -> Tensor)? = nil, embedPrepared: @escaping EmbedPrepared,
    embedTexts: @escaping EmbedTexts
  ) {
    self.clip = clip
    self.store = store
    self.steps = steps
    let prepare = prepare ?? { try clip.preparedImage($0) }
    embedImageBatch = { images in
      let prepared = try await steps.run("prepare") { try images.map(prepare) }
      return try await embedPrepared(prepared)
    }
    embedTextBatch = embedTexts
  }

  /// The decoder for CLIP inputs, the one place its options are chosen: at most `maxPixels`,
  /// and unless `fullSize`, JPEGs decoded at a reduced DCT scale when much larger than the
  /// model's input (`CLIPModel.fastDecodeShortSide`, docs/clip.md).
  public static func decoder(for clip: CLIPModel, maxPixels: Int? = nil, fullSize: Bool = false)
    -> ImageDecoder
  {
    var options = ImageDecoder.Options()
    if let maxPixels { options.maxPixels = maxPixels }
    if !fullSize { options.minimumShortSide = clip.fastDecodeShortSide }
    return ImageDecoder(options: options)
  }

  /// `VisualSearchService.decoder(for:maxPixels:fullSize:)` for this service's model.
  public func decoder(maxPixels: Int? = nil, fullSize: Bool = false) -> ImageDecoder {
    Self.decoder(for: clip, maxPixels: maxPixels, fullSize: fullSize)
  }

  /// Decodes `data` with `decoder` as the `decode` step.
  public func decode(_ data: Data, with decoder: ImageDecoder) async throws -> RGBImage {
    try await steps.run("decode") { try decoder.decode(data) }
  }

  /// L2-normalized embeddings of decoded images, in order.
  public func embed(images: [RGBImage]) async throws -> [[Float]] {
    try await embedImageBatch(images)
  }

  /// L2-normalized embeddings of texts, in order.
  public func embed(texts: [String]) async throws -> [[Float]] {
    try await embedTextBatch(texts)
  }

  /// The catalog's `k` nearest items to `vector`; with `groupByParent`, object entries count
  /// for their parent image (the best of each image).
  public func search(vector: [Float], k: Int, filter: SearchFilter, groupByParent: Bool = false) async throws
    -> [SearchResult]
  {
    groupByParent
      ? try await store.searchGroupedByParent(vector: vector, k: k, filter: filter)
      : try await store.search(vector: vector, k: k, filter: filter)
  }

  /// Detect-then-search over this service's embedding path and catalog.
  public func cropSearch(maxBatch: Int = 32) -> CropSearch {
    CropSearch(embedImages: { try await embed(images: $0) }, store: store, maxBatch: maxBatch)
  }
}
