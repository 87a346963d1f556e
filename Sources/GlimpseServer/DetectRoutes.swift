import Catalog
import Detection
import Foundation
import Hummingbird
import Imaging
import Pipeline

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
    let settings = try DetectionSettings(query: QueryReader(request), services: services)
    let data: Data
    switch try await RequestPayload.read(request, limits: services.limits) {
    case .image(let bytes): data = bytes
    case .multipart(let form): data = try RequestPayload.image(in: form)
    case .json(let body):
      data = try decodeBase64Image(JSONBody.decode(DetectRequest.self, from: body).image, field: "image")
    }
    let image = try await services.decodeImage(data)
    let objects = try await settings.run(on: image, services: services)
    return JSONBody.response(
      DetectionResponse(
        frame: nil, dropped: nil, width: image.width, height: image.height, detections: objects,
        tookMilliseconds: started.duration(to: .now).milliseconds))
  }
}

/// A detection request as JSON: the image base64-encoded (settings stay in the query).
struct DetectRequest: StrictDecodable {
  static let fields: Set<String> = ["image"]
  var image: String
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
  var distance = DistanceEstimator()
  var search = false
  var k = 3

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
    if let conf = try Bounds.check(conf, "conf", in: 0...1) { options.confidenceThreshold = Float(conf) }
    if let iou = try Bounds.check(iou, "iou", in: 0...1) { options.iouThreshold = iou }
    let fieldOfView = try Bounds.check(fieldOfView, "fov_deg", in: 0...180, open: true)
    let focalPixels = try Bounds.check(focalPixels, "focal_px", in: 0...1e6, open: true)
    if let classes, !classes.isEmpty {
      options.classes = try ObjectDetectionPipeline(detector: services.detector).classIndices(classes)
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
  /// detector returns hundreds of boxes, and embedding each crop would cost seconds.
  static let maxSearchedObjects = 16

  /// Detections in `image`, with catalog matches (for the most confident objects) when
  /// `search` is on.
  func run(on image: RGBImage, services: ModelServices) async throws -> [DetectedObject] {
    var objects = try await services.detect(image, options: options, distance: distance)
    guard search, !objects.isEmpty else { return objects }
    // The crops go through the server's batcher, shared with every other request.
    let cropSearch = CropSearch(
      embedImages: { try await services.embedImages($0) }, store: services.store,
      maxBatch: services.limits.maxBatch)
    let searched = try await cropSearch.attachMatches(
      to: Array(objects.prefix(Self.maxSearchedObjects)), in: image, k: k)
    objects.replaceSubrange(0..<searched.count, with: searched)
    return objects
  }
}
