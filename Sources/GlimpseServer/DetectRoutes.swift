import Catalog
import Detection
import Foundation
import Hummingbird
import Imaging
import Services

/// `POST /v1/detect`: objects in an image with distance estimates and, optionally, the
/// catalog's nearest items for each object.
struct DetectRoutes {
  let state: ServerState

  func register(on router: RouteRegistrar) {
    router.post("/v1/detect") { request, _ in try await detect(request) }
  }

  private func detect(_ request: Request) async throws -> Response {
    let started = ContinuousClock.now
    let services = try state.services()
    let query = QueryReader(request)
    let settings = try DetectionSettings(query: query, services: services)
    let data: Data
    var streamID = query.string("stream_id")
    switch try await RequestPayload.read(request, limits: services.limits) {
    case .image(let bytes): data = bytes
    case .multipart(let form): data = try RequestPayload.image(in: form)
    case .json(let body):
      let decoded = try JSONBody.decode(DetectRequest.self, from: body)
      data = try decodeBase64Image(decoded.image, field: "image")
      streamID = streamID ?? decoded.stream_id
    }
    let image = try await services.decodeImage(data)
    let stream = try tracking(streamID, query: query)
    let objects = try await settings.run(on: image, services: services, stream: stream)
    return JSONBody.response(
      DetectionResponse(
        frame: stream?.frame, dropped: nil, width: image.width, height: image.height, detections: objects,
        tookMilliseconds: started.duration(to: .now).milliseconds))
  }

  /// The stream's tracker and frame number when the request names a stream; tracking
  /// settings without one are an error rather than silently ignored.
  private func tracking(_ streamID: String?, query: QueryReader) throws -> StreamFrame? {
    let fields = try TrackingFields(query: query)
    guard let streamID else {
      guard fields.isEmpty else { throw APIError.invalidParameter("tracking settings need a 'stream_id'") }
      return nil
    }
    return try state.streamTrackers.next(streamID, fields: fields)
  }
}

/// A detection request as JSON: the image base64-encoded and, to track across requests, the
/// stream's id (settings stay in the query).
struct DetectRequest: StrictDecodable {
  static let fields: Set<String> = ["image", "stream_id"]
  var image: String
  var stream_id: String?
}

/// The answer for one image (a request, or a frame of the AR stream).
struct DetectionResponse: Encodable {
  var frame: Int?
  var dropped: Int?
  var width: Int
  var height: Int
  var detections: [DetectedObject]
  var tookMilliseconds: Double

  enum CodingKeys: String, CodingKey {
    case frame, dropped, width, height, detections
    case tookMilliseconds = "took_ms"
  }
}

/// What a detection request asks for: thresholds, classes, the camera's focal length for
/// distances, and whether to search the catalog for each object.
struct DetectionSettings: Sendable {
  var options = DetectionOptions()
  /// Whether `conf` was left at its default: tracking then lowers it (`TrackingSettings`).
  var confidenceIsDefault = true
  var distance = DistanceEstimator()
  var search = false
  var k = 3
  /// Whether the AR stream tracks its frames, and with which settings (kept while tracking
  /// is off, for when it is turned on again).
  var isTracking = false
  var tracking = TrackingSettings()

  init() {}

  init(query: QueryReader, services: ModelServices) throws {
    try self.init(
      conf: query.double("conf"), iou: query.double("iou"), classes: query.list("classes"),
      fieldOfView: query.double("fov_deg"), focalPixels: query.double("focal_px"),
      search: query.bool("search"),
      k: query.int("k", in: Int.min...Int.max), services: services)
  }

  /// Every setting's range is checked here, for `/v1/detect` and the AR stream alike.
  init(
    conf: Double?, iou: Double?, classes: [String]?, fieldOfView: Double?, focalPixels: Double?,
    search: Bool?,
    k: Int?, services: ModelServices
  ) throws {
    if let conf = try Bounds.check(conf, "conf", in: DetectionOptions.thresholdRange) {
      options.confidenceThreshold = Float(conf)
      confidenceIsDefault = false
    }
    if let iou = try Bounds.check(iou, "iou", in: DetectionOptions.thresholdRange) {
      options.iouThreshold = iou
    }
    let fieldOfView = try Bounds.check(fieldOfView, "fov_deg", in: 0...180, open: true)
    let focalPixels = try Bounds.check(focalPixels, "focal_px", in: 0...1e6, open: true)
    if let classes, !classes.isEmpty {
      options.classes = try services.objects.classIndices(classes)
    }
    if let focalPixels {
      distance.focal = .pixels(focalPixels)
    } else if let fieldOfView {
      distance.focal = .verticalFieldOfView(fieldOfView)
    }
    self.search = search ?? false
    self.k = try validatedK(k, limits: services.limits, default: 3)
  }

  /// Most objects searched in one image: the most confident ones. At a low threshold a
  /// detector returns hundreds of boxes, and embedding each crop would cost seconds. While
  /// tracking, this bounds the tracks searched again in a frame; a new track is always
  /// searched (only confident detections start tracks, and each is searched once).
  static let maxSearchedObjects = 16

  /// Detections in `image`, with catalog matches (for the most confident objects) when
  /// `search` is on. With a stream's tracker, the objects are its confirmed tracks and the
  /// matches its cached ones, searched again only when due.
  func run(on image: RGBImage, services: ModelServices, stream: StreamFrame? = nil)
    async throws -> [DetectedObject]
  {
    var options = options
    if stream != nil && confidenceIsDefault {
      options.confidenceThreshold = TrackingSettings.detectionConfidence
    }
    // The crops go through the server's batcher, shared with every other request.
    let objectSearch =
      search
      ? ObjectSearch(
        crops: services.visual.cropSearch(maxBatch: services.limits.maxBatch), k: k,
        maxObjects: Self.maxSearchedObjects) : nil
    return try await services.objects.detect(
      image, options: options, distance: distance, search: objectSearch, stream: stream)
  }
}
