import CLIP
import Catalog
import Detection
import Foundation
import Imaging
import ONNXRuntime
import Services
import Synchronization
import Testing

/// The application services with the real tiny models and a real SQLite catalog: the path the
/// server takes (prepared images through an injected model function, steps run by the caller's
/// runner) gives what the command line's direct path gives.
@Suite(.serialized) struct ServicesTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static func environment() throws -> ORTEnvironment {
    let library = root.appendingPathComponent(".deps/onnxruntime/lib/libonnxruntime.so.1.31.1").path
    return try ORTEnvironment.shared(library: ORTLibrary.load(explicitPath: library))
  }

  static func clip() throws -> CLIPModel {
    try CLIPModel(
      bundle: CLIPModelBundle(folder: root.appendingPathComponent("models/test/clip-tiny")),
      environment: environment())
  }

  static func detector() throws -> YOLODetector {
    try YOLODetector(
      modelPath: root.appendingPathComponent("models/test/yolo-tiny/model.onnx").path,
      environment: environment())
  }

  static func image(_ name: String) throws -> RGBImage {
    try ImageDecoder().decode(
      Data(contentsOf: root.appendingPathComponent("Tests/DetectionTests/Fixtures/images/\(name)")))
  }

  /// A new SQLite catalog in a temporary folder (removed by the caller).
  static func catalog(_ clip: CLIPModel, in folder: URL) throws -> SQLiteCatalog {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return try SQLiteCatalog(
      path: folder.appendingPathComponent("catalog.db").path, model: clip.bundle.name,
      dimension: clip.dimension)
  }

  /// Records the steps a service runs, in order.
  final class RecordingSteps: ServiceSteps {
    let names = Mutex<[String]>([])

    func run<T: Sendable>(_ step: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
      names.withLock { $0.append(step) }
      return try work()
    }
  }

  @Test func preparedPathEmbedsAsTheDirectPath() async throws {
    let clip = try Self.clip()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "services-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = try Self.catalog(clip, in: folder)
    let steps = RecordingSteps()
    let batched = VisualSearchService(
      clip: clip, store: store, steps: steps, embedPrepared: { try clip.embed(preparedImages: $0) },
      embedTexts: { try clip.embedTexts($0) })
    let direct = VisualSearchService(clip: clip, store: store)
    let images = try ["street_1280x720.png", "portrait_480x640.png", "odd_333x517.png"].map(Self.image)
    let viaBatcher = try await batched.embed(images: images)
    let viaModel = try await direct.embed(images: images)
    #expect(viaBatcher.count == 3)
    for (a, b) in zip(viaBatcher, viaModel) {
      #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-5 })
    }
    #expect(steps.names.withLock { $0 } == ["prepare"])
    let texts = try await batched.embed(texts: ["a street", "a dog"])
    #expect(texts == (try clip.embedTexts(["a street", "a dog"])))
  }

  @Test func searchFindsTheEmbeddedImage() async throws {
    let clip = try Self.clip()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "services-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let visual = VisualSearchService(clip: clip, store: try Self.catalog(clip, in: folder))
    let names = ["street_1280x720.png", "portrait_480x640.png", "odd_333x517.png"]
    let embeddings = try await visual.embed(images: names.map(Self.image))
    try await visual.store.upsert(zip(names, embeddings).map { CatalogItem(id: $0, embedding: $1) })
    let data = try Data(
      contentsOf: Self.root.appendingPathComponent(
        "Tests/DetectionTests/Fixtures/images/portrait_480x640.png"))
    let query = try await visual.embed(images: [visual.decode(data, with: visual.decoder())])[0]
    let results = try await visual.search(vector: query, k: 2, filter: SearchFilter())
    #expect(results.map(\.id).first == "portrait_480x640.png")
    #expect(results.count == 2)
  }

  /// One factory chooses the decoding of CLIP inputs: the reduced JPEG scale unless full size
  /// is asked for (object boxes), and the caller's pixel limit.
  @Test func clipDecoderOptions() throws {
    let clip = try Self.clip()
    let fast = VisualSearchService.decoder(for: clip)
    #expect(fast.options.minimumShortSide == clip.fastDecodeShortSide)
    #expect(fast.options.maxPixels == ImageDecoder.Options().maxPixels)
    let full = VisualSearchService.decoder(for: clip, maxPixels: 1000, fullSize: true)
    #expect(full.options.minimumShortSide == nil)
    #expect(full.options.maxPixels == 1000)
    // Four times the fast path's floor: decoded at a reduced scale, still at least the floor.
    let side = 4 * clip.fastDecodeShortSide
    var picture = RGBImage(width: side + 8, height: side)
    for i in 0..<picture.pixels.count {
      picture.pixels[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13)
    }
    let large = try JPEGEncoder.encode(picture, quality: 90)
    #expect(throws: ImagingError.self) { try full.decode(large) }
    let reduced = try fast.decode(large)
    #expect(reduced.height < side && reduced.height >= clip.fastDecodeShortSide)
    #expect(try VisualSearchService.decoder(for: clip, fullSize: true).decode(large).height == side)
  }

  /// A batch of jobs with two settings gives each job what the detector gives it alone.
  @Test func detectionJobsAnswerInOrder() throws {
    let detector = try Self.detector()
    let (street, portrait) = (try Self.image("street_1280x720.png"), try Self.image("portrait_480x640.png"))
    var strict = DetectionOptions()
    strict.confidenceThreshold = 0.5
    var loose = DetectionOptions()
    loose.confidenceThreshold = 0.05
    let jobs = [
      DetectionJob(image: street, options: strict), DetectionJob(image: portrait, options: loose),
      DetectionJob(image: portrait, options: strict), DetectionJob(image: street, options: loose),
    ]
    let answers = try detector.detect(jobs)
    #expect(answers.count == 4)
    for (job, answer) in zip(jobs, answers) {
      let alone = try detector.detect(job.image, options: job.options)
      #expect(answer.map(\.classIndex) == alone.map(\.classIndex))
      #expect(
        zip(answer, alone).allSatisfy {
          abs($0.box.x1 - $1.box.x1) < 0.01 && abs($0.confidence - $1.confidence) < 1e-4
        })
    }
    #expect(answers[3].count >= answers[0].count, "a lower threshold keeps at least as many boxes")
  }

  @Test func classIndicesByNameOrID() throws {
    let service = ObjectDetectionService(classNames: ["person", "car", "dog"]) { _, _ in [] }
    #expect(try service.classIndices(["Person", " 2", "car"]) == [0, 1, 2])
    #expect(throws: DetectionError.self) { try service.classIndices(["cat"]) }
    #expect(throws: DetectionError.self) { try service.classIndices(["3"]) }
  }

  /// Detect-then-search embeds only the selected objects: those of the asked classes, at most
  /// `maxObjects` of them, in the detector's order. The detector's answer is fixed here (the
  /// injection point the server's batcher uses); the crops go through the real CLIP model and
  /// catalog.
  @Test func objectSearchSelectsClassesAndLimit() async throws {
    let clip = try Self.clip()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "services-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let visual = VisualSearchService(clip: clip, store: try Self.catalog(clip, in: folder))
    let image = try Self.image("street_1280x720.png")
    try await visual.store.upsert([CatalogItem(id: "street", embedding: visual.embed(images: [image])[0])])
    let boxes = (0..<5).map { index in
      Detection(
        label: index % 2 == 0 ? "person" : "car", classIndex: index % 2, confidence: 0.9 - Float(index) / 10,
        box: BoundingBox(x1: Float(index) * 200, y1: 100, x2: Float(index) * 200 + 150, y2: 400))
    }
    let service = ObjectDetectionService(classNames: ["person", "car"]) { _, _ in boxes }
    let embedded = Mutex(0)
    let counted = CropSearch(
      embedImages: { crops in
        embedded.withLock { $0 += crops.count }
        return try await visual.embed(images: crops)
      }, store: visual.store, maxBatch: 2)
    let limited = try await service.detect(
      image, options: DetectionOptions(), distance: DistanceEstimator(),
      search: ObjectSearch(crops: counted, k: 1, maxObjects: 3))
    #expect(limited.map { $0.matches != nil } == [true, true, true, false, false])
    #expect(embedded.withLock { $0 } == 3)
    let cars = try await service.detect(
      image, options: DetectionOptions(), distance: DistanceEstimator(),
      search: ObjectSearch(crops: counted, k: 1, classes: [1]))
    #expect(cars.map { $0.matches?.first?.id } == [nil, "street", nil, "street", nil])
    #expect(cars.allSatisfy { $0.distanceMetres != nil }, "each object has a distance estimate")
  }
}

/// The one text-length rule, in characters (a server passes its own, lower limit).
@Suite struct TextLengthTests {
  @Test func countsCharactersNotBytes() throws {
    let accented = String(repeating: "é", count: CLIPModel.maxTextLength)
    try CLIPModel.checkLength([accented])
    #expect(throws: CLIPError.self) { try CLIPModel.checkLength(["ok", accented + "é"]) }
    do {
      try CLIPModel.checkLength(["short", "twelve chars"], limit: 10)
      Issue.record("a text over the limit was accepted")
    } catch CLIPError.invalidRequest(let message) {
      #expect(message == "a text of 12 characters is over the limit of 10")
    }
  }
}
