import CLIP
import Catalog
import Detection
import Foundation
import Imaging
import ONNXRuntime
import Services
import Testing
import Tracking

/// Per-track matching and distance smoothing over a 300-frame synthetic stream: three people
/// (one standing still, one walking towards the camera, one crossing the view), boxes with
/// a few pixels of detector jitter, searched in a real catalog with the tiny CLIP model.
@Suite(.serialized) struct StreamTrackerTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let frames = 300
  static let size = (width: 640, height: 480)
  static let estimator = DistanceEstimator(focal: .verticalFieldOfView(60))

  /// Counts the crops the real model embeds.
  final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add(_ n: Int) { lock.withLock { value += n } }
    var count: Int { lock.withLock { value } }
  }

  static func clip() throws -> CLIPModel {
    let library = root.appendingPathComponent(".deps/onnxruntime/lib/libonnxruntime.so.1.31.1").path
    let environment = try ORTEnvironment.shared(library: ORTLibrary.load(explicitPath: library))
    return try CLIPModel(
      bundle: CLIPModelBundle(folder: root.appendingPathComponent("models/test/clip-tiny")),
      environment: environment)
  }

  /// The true distance of each person at frame t (1-based), metres.
  static func trueDistance(_ person: Int, _ t: Int) -> Double {
    switch person {
    case 0: 6
    case 1: 12 - 8 * Double(t) / Double(frames)  // walks from 12 m to 4 m
    default: 8
    }
  }

  /// The detections of frame t: boxes from the true distances, with seeded jitter.
  static func detections(_ t: Int, rng: inout SplitMix) -> [DetectedObject] {
    let focal = estimator.focalPixels(imageHeight: size.height)
    return (0..<3).map { person in
      let height = Float(1.7 * focal / trueDistance(person, t))
      // The crossing person walks above the others, so that the boxes never overlap and
      // each track stays one person's.
      let centerX: Float = person == 2 ? 40 + Float(t) * 1.8 : (person == 0 ? 160 : 420)
      let centerY: Float = person == 2 ? 120 : 300
      let jitter = (0..<4).map { _ in Float(rng.gaussian() * 2) }
      let box = BoundingBox(
        x1: centerX - height / 6 + jitter[0], y1: centerY - height / 2 + jitter[1],
        x2: centerX + height / 6 + jitter[2], y2: centerY + height / 2 + jitter[3])
      let detection = Detection(label: "person", classIndex: 0, confidence: 0.8, box: box)
      return DetectedObject(
        detection, distanceMetres: estimator.distance(to: detection, imageHeight: size.height))
    }
  }

  static func image() -> RGBImage {
    var image = RGBImage(width: size.width, height: size.height)
    for i in 0..<image.pixels.count { image.pixels[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
    return image
  }

  /// A catalog of two items (crops of the stream's image) in a temporary SQLite file.
  static func catalog(_ clip: CLIPModel, image: RGBImage, in folder: URL) async throws -> SQLiteCatalog {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let store = try SQLiteCatalog(
      path: folder.appendingPathComponent("catalog.db").path, model: clip.bundle.name,
      dimension: clip.dimension)
    let embeddings = try clip.embedImages([image.cropped(x: 0, y: 0, width: 200, height: 200), image])
    try await store.upsert(
      embeddings.enumerated().map { CatalogItem(id: "item-\($0.offset)", embedding: $0.element) })
    return store
  }

  @Test func perTrackMatchingEmbedsTenTimesLessAndSmoothsDistances() async throws {
    let clip = try Self.clip()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "tracking-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let image = Self.image()
    let store = try await Self.catalog(clip, image: image, in: folder)
    let counter = Counter()
    let search = CropSearch(
      embedImages: { crops in
        counter.add(crops.count)
        return try clip.embedImages(crops)
      }, store: store)

    let tracker = StreamTracker()
    var rng = SplitMix(seed: 42)
    var perFrameEmbeddings = 0
    var raw: [Int: [Double]] = [:]
    var smoothed: [Int: [Double]] = [:]
    for t in 1...Self.frames {
      let objects = Self.detections(t, rng: &rng)
      perFrameEmbeddings += objects.count  // what matching every object in every frame embeds
      let tracked = try await tracker.attachMatches(
        to: tracker.track(objects, frame: t), in: image, frame: t, search: search, k: 1)
      #expect(tracked.count == 3, "frame \(t): every person is a confirmed track")
      #expect(
        tracked.allSatisfy { $0.matches?.count == 1 && $0.matchFrame != nil }, "frame \(t): a match each")
      for object in tracked {
        let person = try #require(
          objects.indices.min { Self.gap(objects[$0], object) < Self.gap(objects[$1], object) })
        raw[person, default: []].append(objects[person].distanceMetres!)
        smoothed[person, default: []].append(object.distanceMetres!)
      }
    }
    let ratio = Double(perFrameEmbeddings) / Double(counter.count)
    print("per-track matching: \(counter.count) embeddings vs \(perFrameEmbeddings) per frame (\(ratio)×)")
    #expect(ratio >= 10)
    #expect(tracker.searches == counter.count, "the tracker's own count agrees")
    Self.checkDistances(raw: raw, smoothed: smoothed)
  }

  /// The steady person's distance varies less smoothed than per frame; the approaching one is
  /// followed without a lasting lag.
  static func checkDistances(raw: [Int: [Double]], smoothed: [Int: [Double]]) {
    // The steady person (true 6 m): spread of the estimates after the filter settles.
    let steadyRaw = standardDeviation(raw[0]!.dropFirst(30))
    let steadySmoothed = standardDeviation(smoothed[0]!.dropFirst(30))
    print("steady object: distance SD \(steadyRaw) m per frame, \(steadySmoothed) m smoothed")
    #expect(steadySmoothed < steadyRaw / 2)
    // The approaching person: followed without a lasting lag (mean error over the last 100 frames).
    let approach = smoothed[1]!.suffix(100)
    let truth = (frames - 99...frames).map { trueDistance(1, $0) }
    let meanError = zip(approach, truth).map { $0 - $1 }.reduce(0, +) / Double(approach.count)
    print("approaching object: mean error \(meanError) m over the last 100 frames")
    #expect(abs(meanError) < 0.1)
  }

  /// Distance between two boxes' centres.
  static func gap(_ a: DetectedObject, _ b: DetectedObject) -> Float {
    let dx = (a.box.x1 + a.box.x2 - b.box.x1 - b.box.x2) / 2
    let dy = (a.box.y1 + a.box.y2 - b.box.y1 - b.box.y2) / 2
    return (dx * dx + dy * dy).squareRoot()
  }

  static func standardDeviation(_ values: some Collection<Double>) -> Double {
    let mean = values.reduce(0, +) / Double(values.count)
    return (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
  }
}

/// A seeded generator with Gaussian samples (Box-Muller), for reproducible jitter.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }

  mutating func next() -> Double {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
  }

  mutating func gaussian() -> Double {
    let (u, v) = (max(next(), 1e-12), next())
    return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
  }
}
