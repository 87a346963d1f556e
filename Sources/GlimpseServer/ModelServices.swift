import CLIP
import Catalog
import Detection
import Foundation
import Imaging
import ONNXRuntime
import Pipeline
import Runtime

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

/// One image to detect on, with its request's settings: requests with equal settings share
/// a model run.
struct DetectionJob: Sendable {
  var image: RGBImage
  var options: DetectionOptions
}

/// The loaded models behind dynamic batchers: every route goes through here, so concurrent
/// requests share model runs and a full queue answers 429.
final class ModelServices: Sendable {
  let models: LoadedModels
  let limits: RequestLimits
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
    let clip = models.clip
    let detector = models.detector
    let buckets = models.acceleration.cudaGraphs ? BatchBuckets(maxBatch: limits.maxBatch) : nil
    imageBatcher = DynamicBatcher(
      name: "clip-visual", options: options, observer: metrics.batcherObserver(model: "clip-visual"),
      othersInFlight: othersInFlight
    ) { try clip.embed(preparedImages: $0, buckets: buckets) }
    textBatcher = DynamicBatcher(
      name: "clip-textual", options: options, observer: metrics.batcherObserver(model: "clip-textual"),
      othersInFlight: othersInFlight
    ) { try clip.embedTexts($0) }
    detectionBatcher = DynamicBatcher(
      name: "detector", options: options, observer: metrics.batcherObserver(model: "detector"),
      othersInFlight: othersInFlight
    ) { try Self.detect($0, with: detector) }
  }

  var clip: CLIPModel { models.clip }
  var store: any CatalogStore { models.store }
  var detector: YOLODetector { models.detector }

  /// Decodes an image for CLIP: JPEGs are decoded at a reduced DCT scale when much larger
  /// than the model's input (docs/clip.md).
  func decodeForCLIP(_ data: Data) async throws -> RGBImage {
    try await decodeImage(data, minimumShortSide: clip.fastDecodeShortSide)
  }

  /// Decodes image bytes off the cooperative threads, within the pixel limit, after reserving
  /// the decoded size (read from the header) from the server's pixel budget.
  func decodeImage(_ data: Data, minimumShortSide: Int? = nil) async throws -> RGBImage {
    let decoder = ImageDecoder(
      options: .init(maxPixels: limits.maxPixels, minimumShortSide: minimumShortSide))
    let acceleration = models.acceleration
    let size = try acceleration.decodedSize(data, with: decoder)
    try pixelBudget.reserve(size.width * size.height)
    return try await RequestTimings.measure("decode") {
      try await offload { try acceleration.decode(data, with: decoder) }
    }
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

  /// Resizing and packing happen here, on the request's side, in parallel with other
  /// requests and with the model run in progress; the batcher's thread only runs the model.
  func embedImages(_ images: [RGBImage]) async throws -> [[Float]] {
    let (clip, acceleration) = (self.clip, models.acceleration)
    let prepared = try await RequestTimings.measure("prepare") {
      try await offload { try images.map { try acceleration.prepare($0, for: clip) } }
    }
    return try await RequestTimings.measure("clip-visual") {
      try await imageBatcher.submit(prepared, ran: RequestTimings.runReport("clip-visual"))
    }
  }

  func embedTexts(_ texts: [String]) async throws -> [[Float]] {
    for text in texts where text.count > limits.maxTextLength {
      throw APIError.badRequest(
        "a text of \(text.count) characters is over the limit of \(limits.maxTextLength)")
    }
    guard texts.allSatisfy({ !$0.isEmpty }) else { throw APIError.badRequest("empty text") }
    return try await RequestTimings.measure("clip-textual") {
      try await textBatcher.submit(texts, ran: RequestTimings.runReport("clip-textual"))
    }
  }

  /// Detections with distance estimates (by `distance`) in one decoded image.
  func detect(_ image: RGBImage, options: DetectionOptions, distance: DistanceEstimator) async throws
    -> [DetectedObject]
  {
    let job = DetectionJob(image: image, options: options)
    let detections = try await RequestTimings.measure("detector") {
      try await detectionBatcher.submit([job], ran: RequestTimings.runReport("detector"))
    }[0]
    return detections.map {
      DetectedObject($0, distanceMetres: distance.distance(to: $0, imageHeight: image.height))
    }
  }

  /// Runs a batch of detection jobs: jobs with the same settings go through the model
  /// together; answers come back in job order.
  private static func detect(_ jobs: [DetectionJob], with detector: YOLODetector) throws -> [[Detection]] {
    var results = [[Detection]](repeating: [], count: jobs.count)
    var groups: [(options: DetectionOptions, indices: [Int])] = []
    for (index, job) in jobs.enumerated() {
      if let group = groups.firstIndex(where: { $0.options == job.options }) {
        groups[group].indices.append(index)
      } else {
        groups.append((job.options, [index]))
      }
    }
    for group in groups {
      let answers = try detector.detect(group.indices.map { jobs[$0].image }, options: group.options)
      for (index, answer) in zip(group.indices, answers) { results[index] = answer }
    }
    return results
  }

  /// Refuses new model work; what is queued still finishes.
  func close() {
    imageBatcher.close()
    textBatcher.close()
    detectionBatcher.close()
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
