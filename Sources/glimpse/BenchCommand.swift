import ArgumentParser
import CLIP
import Catalog
import Detection
import Foundation
import Imaging
import Logging
import ONNXRuntime
import Services

/// `glimpse bench`: the seed-style table for CLIP on the chosen device and precision, and
/// the cost of Glimpse's pipeline over the bare ONNX Runtime run of the same model.
struct Bench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure model load time, CLIP latency and throughput, and pipeline overhead.")

  @OptionGroup var model: CLIPModelOptions

  @Option(name: .customLong("image"), help: "JPEG files for the end-to-end rows. Repeatable.")
  var images: [String] = []

  @Option(help: "Timed iterations per row.")
  var iterations = 20

  @Option(help: "Comma-separated batch sizes for the throughput rows.")
  var batches = "1,8,32,128"

  @Option(
    name: .customLong("detector-model"),
    help: "YOLO detector for the detection row (env GLIMPSE_DETECTOR_MODEL; default as `glimpse detect`).")
  var detectorModel: String?

  @Option(
    help: "Catalog size for the search row (random unit vectors in a temporary SQLite catalog); 0 skips it.")
  var searchItems = 10_000

  @Flag(help: "Print JSON.")
  var json = false

  func run() async throws {
    let logger = model.logger("glimpse.bench")
    let start = ContinuousClock.now
    let (clip, choice) = try model.load(logger: logger)
    var report = BenchReport(
      device: choice.device.description, precision: clip.bundle.precision.rawValue, model: clip.bundle.name,
      loadSeconds: start.duration(to: .now) / .seconds(1))
    let sample = try Tensor(
      float32: syntheticPixels(clip), shape: [1, 3, clip.transform.height, clip.transform.width])
    let bareInput = clip.visual.inputs[0].elementType == .float16 ? try halfTensor(sample) : sample
    report.imageBatch1 = try measure(warmup: 3, iterations: iterations) {
      _ = try clip.embed(imageInput: bareInput)
    }
    report.textBatch1 = try measure(warmup: 3, iterations: iterations) {
      _ = try clip.embedTexts(["a photo of a dog"])
    }
    for batch in batches.split(separator: ",").compactMap({ Int($0) }) {
      let images = [RGBImage](repeating: syntheticImage(), count: batch)
      let input = try clip.imageInput(images)
      let summary = try measure(warmup: 1, iterations: max(3, iterations / batch)) {
        _ = try clip.embed(imageInput: input)
      }
      report.throughput.append(
        .init(batch: batch, imagesPerSecond: Double(batch) / summary.p50Milliseconds * 1000))
    }
    for path in images {
      report.pipelines += try pipelineRows(path: path, clip: clip, bare: report.imageBatch1)
    }
    report.detection = try detectionRow(logger: logger)
    if searchItems > 0 { report.search = try await searchRow(dimension: clip.dimension) }
    if json { try printJSON(report) } else { print(report.table) }
  }

  /// End to end from file bytes (decode, preprocess, run, normalize), full and fast decode.
  private func pipelineRows(path: String, clip: CLIPModel, bare: LatencySummary?) throws -> [BenchReport
    .Pipeline]
  {
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
    let full = try ImageDecoder().decode(data)
    let reference = try clip.embedImages([full])[0]
    return try [true, false].map { fullSize in
      let decoder = VisualSearchService.decoder(for: clip, fullSize: fullSize)
      let summary = try measure(warmup: 2, iterations: iterations) {
        _ = try clip.embedImages([decoder.decode(data)])
      }
      let embedding = try clip.embedImages([decoder.decode(data)])[0]
      return BenchReport.Pipeline(
        image: "\(URL(fileURLWithPath: path).lastPathComponent) (\(full.width)×\(full.height))",
        decode: fullSize ? "full" : "fast (DCT scaled)", latency: summary,
        ratioToBareRun: summary.p50Milliseconds / (bare?.p50Milliseconds ?? .nan),
        cosineToFullDecode: dot(reference, embedding))
    }
  }

  /// YOLO on a 640×480 image: load time, and detect end to end (letterbox, run, NMS).
  private func detectionRow(logger: Logger) throws -> BenchReport.DetectionRow {
    let start = ContinuousClock.now
    let detector = try DetectorOptions.load(explicit: detectorModel, runtime: model.runtime, logger: logger)
    let loadSeconds = start.duration(to: .now)
    let image = syntheticImage()
    let summary = try measure(warmup: 3, iterations: iterations) { _ = try detector.detect(image) }
    return .init(
      inputSize: "\(detector.inputWidth)×\(detector.inputHeight)",
      loadSeconds: loadSeconds / .seconds(1),
      latency: summary)
  }

  /// Exact top-10 search over `searchItems` random unit vectors in a temporary SQLite catalog.
  private func searchRow(dimension: Int) async throws -> BenchReport.SearchRow {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-bench-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let store = try SQLiteCatalog(
      path: folder.appendingPathComponent("catalog.sqlite").path, model: "bench", dimension: dimension)
    var generator = SystemRandomNumberGenerator()
    func randomVector() -> [Float] {
      (0..<dimension).map { _ in Float.random(in: -1...1, using: &generator) }
    }
    for start in stride(from: 0, to: searchItems, by: 5_000) {
      let items = (start..<min(start + 5_000, searchItems)).map {
        CatalogItem(id: "item\($0)", embedding: randomVector())
      }
      try await store.upsert(items)
    }
    let queries = (0..<max(iterations, 50)).map { _ in randomVector() }
    var durations: [Duration] = []
    for query in queries {
      let start = ContinuousClock.now
      _ = try await store.search(vector: query, k: 10, filter: SearchFilter())
      durations.append(start.duration(to: .now))
    }
    return .init(items: searchItems, latency: LatencySummary(durations))
  }

  private func syntheticImage() -> RGBImage {
    let (width, height) = (640, 480)
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for index in pixels.indices { pixels[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 13) }
    return RGBImage(width: width, height: height, pixels: pixels)
  }

  /// Non-zero pixels: timing on all-zero inputs can flatter some kernels.
  private func syntheticPixels(_ clip: CLIPModel) -> [Float] {
    (0..<(3 * clip.transform.height * clip.transform.width)).map { Float(($0 &* 7919) % 255) / 128 - 1 }
  }

  private func halfTensor(_ tensor: Tensor) throws -> Tensor {
    try Tensor(float16: tensor.floatValues().map { Float16($0) }, shape: tensor.shape)
  }
}

struct BenchReport: Encodable {
  struct Throughput: Encodable {
    var batch: Int
    var imagesPerSecond: Double
  }
  struct Pipeline: Encodable {
    var image: String
    var decode: String
    var latency: LatencySummary
    var ratioToBareRun: Double
    var cosineToFullDecode: Float
  }

  struct DetectionRow: Encodable {
    var inputSize: String
    var loadSeconds: Double
    var latency: LatencySummary
  }
  struct SearchRow: Encodable {
    var items: Int
    var latency: LatencySummary
  }

  var device: String
  var precision: String
  var model: String
  var loadSeconds: Double
  var detection: DetectionRow?
  var search: SearchRow?
  var imageBatch1: LatencySummary?
  var textBatch1: LatencySummary?
  var throughput: [Throughput] = []
  var pipelines: [Pipeline] = []

  var table: String {
    func row(_ name: String, _ value: String) -> String { "| \(name) | \(value) |" }
    func latency(_ summary: LatencySummary?) -> String {
      guard let summary else { return "-" }
      return String(format: "p50 %.1f ms, p95 %.1f ms", summary.p50Milliseconds, summary.p95Milliseconds)
    }
    var lines = [
      "Glimpse bench: \(model) on \(device), \(precision)", "", "| measure | value |", "|---|---|",
      row("model load (both towers)", String(format: "%.2f s", loadSeconds)),
      row("CLIP image, batch 1 (bare run)", latency(imageBatch1)),
      row("CLIP text, batch 1", latency(textBatch1)),
    ]
    lines += throughput.map {
      row("throughput, batch \($0.batch)", String(format: "%.1f images/s", $0.imagesPerSecond))
    }
    if let detection {
      lines.append(row("YOLO load", String(format: "%.2f s", detection.loadSeconds)))
      lines.append(row("YOLO detect, 640×480 image at \(detection.inputSize)", latency(detection.latency)))
    }
    if let search {
      lines.append(row("search top-10 over \(search.items) items (exact)", latency(search.latency)))
    }
    lines += pipelines.map {
      row(
        "end to end \($0.image), \($0.decode) decode",
        latency($0.latency)
          + String(
            format: " — %.2f× bare run, cosine %.5f to full decode", $0.ratioToBareRun, $0.cosineToFullDecode)
      )
    }
    return lines.joined(separator: "\n")
  }
}
