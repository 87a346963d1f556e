import BlockingWork
import CLIP
import Catalog
import Detection
import Foundation
import Hardware
import Imaging
import ONNXRuntime
import Services

/// A loaded model as `/v1/hardware` and the start-up lines report it.
public struct ModelStatus: Codable, Sendable, Equatable {
  public var name: String
  /// `clip-visual`, `clip-textual` or `detector`.
  public var kind: String
  public var precision: String
  public var fileBytes: Int64
  public var loadMilliseconds: Double
  /// The CLIP towers' family (`CLIPModel.family`); nil for the detector.
  public var family: String?

  public init(
    name: String, kind: String, precision: String, fileBytes: Int64, loadMilliseconds: Double,
    family: String? = nil
  ) {
    self.name = name
    self.kind = kind
    self.precision = precision
    self.fileBytes = fileBytes
    self.loadMilliseconds = loadMilliseconds
    self.family = family
  }

  enum CodingKeys: String, CodingKey {
    case name, kind, precision, family
    case fileBytes = "file_bytes"
    case loadMilliseconds = "load_ms"
  }
}

/// What the server runs with, handed over by whoever loaded it (the `serve` command or a test).
public struct LoadedModels: Sendable {
  public var clip: CLIPModel
  /// The CLIP model's name as clients see it (`ViT-B-32__openai`).
  public var clipName: String
  public var detector: YOLODetector
  public var store: any CatalogStore
  public var device: DeviceChoice
  public var statuses: [ModelStatus]
  /// The GPU paths in use (`ModelAcceleration`); none by default.
  public var acceleration = ModelAcceleration()

  public init(
    clip: CLIPModel, clipName: String, detector: YOLODetector, store: any CatalogStore, device: DeviceChoice,
    statuses: [ModelStatus]
  ) {
    self.clip = clip
    self.clipName = clipName
    self.detector = detector
    self.store = store
    self.device = device
    self.statuses = statuses
  }
}

/// The application services (`VisualSearchService`, `ObjectDetectionService`) over the loaded
/// models, each model behind a dynamic batcher so that concurrent requests share model runs
/// and a full queue answers 429. What stays here is the server's side: the pixel budget and
/// the request limits checked before any model work.
final class ModelServices: Sendable {
  let models: LoadedModels
  let limits: RequestLimits
  let visual: VisualSearchService
  let objects: ObjectDetectionService
  /// Takes prepared images (`CLIPModel.preparedImage`): the batch run then only copies.
  private let imageBatcher: DynamicBatcher<Tensor, [Float]>
  private let textBatcher: DynamicBatcher<String, [Float]>
  private let detectionBatcher: DynamicBatcher<DetectionJob, [Detection]>
  private let pixelBudget: PixelBudget

  init(
    models: LoadedModels, limits: RequestLimits, maxWait: Duration, metrics: ServerMetrics,
    pixelBudget: PixelBudget, othersInFlight: (@Sendable () -> Bool)? = nil
  ) {
    self.models = models
    self.limits = limits
    self.pixelBudget = pixelBudget
    let options = BatchingOptions(
      maxBatch: limits.maxBatch, maxWait: maxWait, queueLength: limits.queueLength)
    func batcher<Input, Output>(_ name: String, run: @escaping @Sendable ([Input]) throws -> [Output])
      -> DynamicBatcher<Input, Output>
    {
      DynamicBatcher(
        name: name, options: options, observer: metrics.batcherObserver(model: name),
        othersInFlight: othersInFlight, run: run)
    }
    let (clip, detector, acceleration) = (models.clip, models.detector, models.acceleration)
    // With CUDA graphs, batches are padded to the sizes whose graphs were captured.
    let buckets = acceleration.cudaGraphs ? BatchBuckets(maxBatch: limits.maxBatch) : nil
    let imageBatcher: DynamicBatcher<Tensor, [Float]> = batcher("clip-visual") {
      try clip.embed(preparedImages: $0, buckets: buckets)
    }
    let textBatcher: DynamicBatcher<String, [Float]> = batcher("clip-textual") { try clip.embedTexts($0) }
    let detectionBatcher: DynamicBatcher<DetectionJob, [Detection]> = batcher("detector") {
      try detector.detect($0)
    }
    (self.imageBatcher, self.textBatcher, self.detectionBatcher) = (
      imageBatcher, textBatcher, detectionBatcher
    )
    visual = VisualSearchService(
      clip: clip, store: models.store, steps: OffloadedSteps(),
      prepare: { try acceleration.prepare($0, for: clip) },
      embedPrepared: { try await Self.submit($0, to: imageBatcher) },
      embedTexts: { try await Self.submit($0, to: textBatcher) })
    objects = ObjectDetectionService(classNames: detector.classNames) { image, options in
      try await Self.submit([DetectionJob(image: image, options: options)], to: detectionBatcher)[0]
    }
  }

  /// Inputs through `batcher`, timed as the batcher's model (queue and run) and its run.
  private static func submit<Input, Output>(_ inputs: [Input], to batcher: DynamicBatcher<Input, Output>)
    async throws -> [Output]
  {
    try await RequestTimings.measure(batcher.name) {
      try await batcher.submit(inputs, ran: RequestTimings.runReport(batcher.name))
    }
  }

  var clip: CLIPModel { models.clip }
  var store: any CatalogStore { models.store }
  var detector: YOLODetector { models.detector }

  /// Decodes an image for CLIP (`VisualSearchService.decoder`): a large JPEG at a reduced
  /// DCT scale, unless `fullSize` (boxes of detected objects are in full-size pixels).
  func decodeForCLIP(_ data: Data, fullSize: Bool = false) async throws -> RGBImage {
    var decoder = visual.decoder(maxPixels: limits.maxPixels, fullSize: fullSize)
    // The decoder reserves the decoded size once it has read the header (read once).
    decoder.options.reserve = pixelBudget.reserver()
    let (acceleration, configured) = (models.acceleration, decoder)
    return try await visual.steps.run("decode") { try acceleration.decode(data, with: configured) }
  }

  /// Decodes an image at full size, within the pixel limit and the pixel budget.
  func decodeImage(_ data: Data) async throws -> RGBImage {
    try await decodeForCLIP(data, fullSize: true)
  }

  /// Decodes several images for CLIP concurrently (each on its own thread), in order.
  func decodeAllForCLIP(_ images: [Data]) async throws -> [RGBImage] {
    try await withThrowingTaskGroup(of: (Int, RGBImage).self) { group in
      for (index, data) in images.enumerated() {
        group.addTask { (index, try await self.decodeForCLIP(data)) }
      }
      var decoded = [RGBImage?](repeating: nil, count: images.count)
      for try await (index, image) in group { decoded[index] = image }
      return decoded.map { $0! }
    }
  }

  /// Texts embedded within the request limits: none empty, none over the length limit.
  func embedTexts(_ texts: [String]) async throws -> [[Float]] {
    try CLIPModel.checkLength(texts, limit: limits.maxTextLength)
    guard texts.allSatisfy({ !$0.isEmpty }) else { throw APIError.badRequest("empty text") }
    return try await visual.embed(texts: texts)
  }

  /// Refuses new model work; what is queued still finishes.
  func close() {
    imageBatcher.close()
    textBatcher.close()
    detectionBatcher.close()
  }
}

/// The server's steps: blocking work off the cooperative threads (`offload`), each step timed
/// for the `Server-Timing` header.
struct OffloadedSteps: ServiceSteps {
  func run<T: Sendable>(_ step: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await RequestTimings.measure(step) { try await offload(work) }
  }
}

extension RequestLimits {
  /// Refuses an empty list of inputs (400) and one over the batch limit (413, as the batcher's
  /// own refusal is answered: `APIError.batcher`).
  func checkBatch(_ count: Int) throws {
    guard count > 0 else { throw APIError.badRequest("nothing to embed: the list is empty") }
    guard count <= maxBatch else { throw BatcherError.tooManyInputs(count: count, limit: maxBatch) }
  }
}
