import CLIP
import Catalog
import Detection
import Foundation
import GlimpseServer
import Hardware
import Hummingbird
import HummingbirdTesting
import Logging
import ONNXRuntime

/// A server over the tiny demo models (models/test) and a fresh SQLite catalog, for route
/// tests through HummingbirdTesting.
enum ServerFixture {
  static let root = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  static let images = root.appendingPathComponent("Tests/ImagingTests/Fixtures/generated")
  static let detectionImages = root.appendingPathComponent("Tests/DetectionTests/Fixtures/images")
  static let catalogImages = root.appendingPathComponent(
    "Tests/GlimpseCLITests/Fixtures/generated/index-folder")

  /// Loaded once per test process: the models are shared by every server (sessions are thread-safe).
  nonisolated(unsafe) private static var cachedModels: (CLIPModel, YOLODetector)?
  private static let lock = NSLock()

  static func models() throws -> (CLIPModel, YOLODetector) {
    try lock.withLock {
      if let cachedModels { return cachedModels }
      let library = try ORTLibrary.load(
        explicitPath: root.appendingPathComponent(".deps/onnxruntime/lib/libonnxruntime.so.1.31.1").path)
      let environment = try ORTEnvironment.shared(library: library)
      let clip = try CLIPModel(
        bundle: CLIPModelBundle(folder: root.appendingPathComponent("models/test/clip-tiny")),
        environment: environment)
      let detector = try YOLODetector(
        modelPath: root.appendingPathComponent("models/test/yolo-tiny/model.onnx").path,
        environment: environment)
      cachedModels = (clip, detector)
      return (clip, detector)
    }
  }

  /// A ready server state over a new catalog in a temporary folder.
  static func readyState(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> ServerState {
    try readyStateAndCatalog(configure).state
  }

  /// A ready server state and the path of its SQLite catalog.
  static func readyStateAndCatalog(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws
    -> (state: ServerState, catalogPath: String)
  {
    var configuration = ServerConfiguration()
    configure(&configuration)
    let state = try ServerState(configuration: configuration)
    let (clip, detector) = try models()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "glimpse-server-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let catalogPath = folder.appendingPathComponent("catalog.sqlite").path
    let store = try SQLiteCatalog(path: catalogPath, model: "clip-tiny", dimension: clip.dimension)
    state.ready(
      with: LoadedModels(
        clip: clip, clipName: "clip-tiny", detector: detector, store: store,
        device: DeviceChoice(request: .cpu, device: .cpu, reason: "test"), statuses: []))
    return (state, catalogPath)
  }

  static func application(_ state: ServerState) throws -> some ApplicationProtocol {
    try GlimpseServer.makeApplication(state: state, logger: Logger(label: "test"))
  }

  static func data(_ url: URL) throws -> Data { try Data(contentsOf: url) }

  static var jpeg: Data {
    get throws { try data(images.appendingPathComponent("jpeg_baseline_640x480.jpg")) }
  }

  static func json(_ object: Any) throws -> ByteBuffer {
    ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
  }

  static func decode(_ buffer: ByteBuffer) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] ?? [:]
  }

  /// A multipart/form-data body and its content type.
  static func multipart(_ fields: [(name: String, filename: String?, data: Data)]) -> (ByteBuffer, String) {
    let boundary = "glimpse-test-\(UUID().uuidString)"
    var body = Data()
    for field in fields {
      body.append(Data("--\(boundary)\r\n".utf8))
      let filename = field.filename.map { "; filename=\"\($0)\"" } ?? ""
      body.append(Data("Content-Disposition: form-data; name=\"\(field.name)\"\(filename)\r\n".utf8))
      if field.filename != nil { body.append(Data("Content-Type: image/jpeg\r\n".utf8)) }
      body.append(Data("\r\n".utf8))
      body.append(field.data)
      body.append(Data("\r\n".utf8))
    }
    body.append(Data("--\(boundary)--\r\n".utf8))
    return (ByteBuffer(bytes: body), "multipart/form-data; boundary=\(boundary)")
  }
}

extension HTTPFields {
  static let json: HTTPFields = [.contentType: "application/json"]
  static let jpeg: HTTPFields = [.contentType: "image/jpeg"]
}

/// Cosine similarity of two vectors.
func cosine(_ a: [Float], _ b: [Float]) -> Float {
  let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
  let norms = (a.reduce(0) { $0 + $1 * $1 } * b.reduce(0) { $0 + $1 * $1 }).squareRoot()
  return dot / norms
}
