import ArgumentParser
import Detection
import Foundation
import Imaging
import Logging
import ONNXRuntime

/// `glimpse bench-detect`: end-to-end detection of a JPEG (decode, letterbox, run, NMS) against
/// the bare ONNX Runtime run of the same prepared input tensor, in the same process. The ratio
/// is the cost of Glimpse's pipeline over the model itself (target ≤ 1.2× on YOLOv8n).
struct BenchDetect: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-detect",
    abstract: "Measure end-to-end YOLO detection against the bare ONNX Runtime run.")

  @Option(
    name: .customLong("model"),
    help: "YOLO detector folder or .onnx (env GLIMPSE_DETECTOR_MODEL; default models/yolov8n, else the demo)."
  )
  var modelFolder: String?

  @Option(help: "A JPEG to detect on (default: a synthetic 1280×720 JPEG made in memory).")
  var image: String?

  @Option(help: "Timed runs of each measure.")
  var runs = 30

  @Option(help: "Untimed runs first.")
  var warmup = 3

  @Option(name: .customLong("conf"), help: "Confidence threshold for the end-to-end runs.")
  var confidence: Float = 0.25

  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup var runtime: RuntimeOptions

  func validate() throws {
    guard runs > 0, warmup >= 0 else {
      throw ValidationError("--runs must be positive, --warmup not negative")
    }
    guard DetectionOptions.thresholdRange.contains(Double(confidence)) else {
      throw ValidationError("--conf must lie in 0…1")
    }
  }

  func run() async throws {
    runtime.bootstrapLogging()
    let logger = Logger(label: "glimpse.bench-detect")
    let detector = try DetectorOptions.load(explicit: modelFolder, runtime: runtime, logger: logger)
    let (data, name) = try imageBytes()
    let options = DetectionOptions(confidenceThreshold: confidence)
    let decoded = try ImageDecoder().decode(data)
    let letterboxes = [try detector.letterbox(for: decoded)]
    let prepared = try detector.input([decoded], letterboxes: letterboxes)
    let feeds = [detector.session.inputs[0].name: prepared]
    let output = try detector.session.run(feeds)[detector.session.outputs[0].name]!

    // The measures take turns, so that a neighbour's load on a shared machine hits both alike.
    var samples = [String: [Duration]]()
    let clock = ContinuousClock()
    let measures: [(String, () throws -> Void)] = [
      ("endToEnd", { _ = try detector.detect(encoded: data, options: options) }),
      ("bareRun", { _ = try detector.session.run(feeds) }),
      ("decode", { _ = try ImageDecoder().decode(data) }),
      ("preprocess", { _ = try detector.input([decoded], letterboxes: letterboxes) }),
      (
        "postprocess",
        { _ = try detector.detections(output: output, letterboxes: letterboxes, options: options) }
      ),
    ]
    for iteration in 0..<(warmup + runs) {
      for (key, body) in measures {
        let duration = try clock.measure(body)
        if iteration >= warmup { samples[key, default: []].append(duration) }
      }
    }
    let report = DetectBenchReport(
      model: detector.session.modelPath, image: name, imageSize: "\(decoded.width)×\(decoded.height)",
      inputSize: "\(detector.inputWidth)×\(detector.inputHeight)", runs: runs,
      endToEnd: LatencySummary(samples["endToEnd"]!), bareRun: LatencySummary(samples["bareRun"]!),
      decode: LatencySummary(samples["decode"]!), preprocess: LatencySummary(samples["preprocess"]!),
      postprocess: LatencySummary(samples["postprocess"]!))
    if json { try printJSON(report) } else { print(report.table) }
  }

  private func imageBytes() throws -> (Data, String) {
    if let image {
      guard let data = FileManager.default.contents(atPath: image) else {
        throw CLIError("cannot read \(image)")
      }
      return (data, image)
    }
    let data = try JPEGEncoder.encode(SyntheticPhoto.make(width: 1280, height: 720), quality: 90)
    return (data, "synthetic 1280×720 JPEG (q90, \(data.count / 1024) KiB)")
  }
}

/// A deterministic photo-like test image: smooth gradients, a few solid shapes with hard
/// edges, and mild noise, so that its JPEG has a realistic size and decoding cost.
enum SyntheticPhoto {
  static func make(width: Int, height: Int) -> RGBImage {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    var noise: UInt32 = 2_463_534_242
    for y in 0..<height {
      for x in 0..<width {
        // xorshift32: cheap, deterministic noise of ±8 levels.
        noise ^= noise << 13
        noise ^= noise >> 17
        noise ^= noise << 5
        let jitter = Int(noise & 15) - 8
        var rgb = [x * 255 / width, y * 255 / height, (x + y) * 255 / (width + height)]
        if let shape = shapeColor(x: x, y: y, width: width, height: height) { rgb = shape }
        for channel in 0..<3 {
          pixels[(y * width + x) * 3 + channel] = UInt8(clamping: rgb[channel] + jitter)
        }
      }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }

  /// A dark upright rectangle (a figure), a red wide one (a vehicle) and a yellow disc.
  private static func shapeColor(x: Int, y: Int, width: Int, height: Int) -> [Int]? {
    if x > width / 5, x < width / 5 + width / 12, y > height / 4, y < height * 9 / 10 { return [40, 40, 60] }
    if x > width / 2, x < width * 4 / 5, y > height / 2, y < height * 4 / 5 { return [200, 30, 30] }
    let dx = x - width * 3 / 4, dy = y - height / 5
    if dx * dx + dy * dy < (height / 8) * (height / 8) { return [240, 220, 40] }
    return nil
  }
}

struct DetectBenchReport: Encodable {
  var model: String
  var image: String
  var imageSize: String
  var inputSize: String
  var runs: Int
  var endToEnd: LatencySummary
  var bareRun: LatencySummary
  var decode: LatencySummary
  var preprocess: LatencySummary
  var postprocess: LatencySummary
  /// Stored, not computed, so that the synthesized encoding includes them.
  var ratioP50: Double = 0
  var ratioP95: Double = 0

  init(
    model: String, image: String, imageSize: String, inputSize: String, runs: Int, endToEnd: LatencySummary,
    bareRun: LatencySummary, decode: LatencySummary, preprocess: LatencySummary, postprocess: LatencySummary
  ) {
    (self.model, self.image, self.imageSize, self.inputSize, self.runs) = (
      model, image, imageSize, inputSize, runs
    )
    (self.endToEnd, self.bareRun) = (endToEnd, bareRun)
    (self.decode, self.preprocess, self.postprocess) = (decode, preprocess, postprocess)
    ratioP50 = endToEnd.p50Milliseconds / bareRun.p50Milliseconds
    ratioP95 = endToEnd.p95Milliseconds / bareRun.p95Milliseconds
  }

  var table: String {
    func latency(_ summary: LatencySummary) -> String {
      String(format: "p50 %.2f ms, p95 %.2f ms", summary.p50Milliseconds, summary.p95Milliseconds)
    }
    return [
      "Glimpse bench-detect: \(model), input \(inputSize); \(image) (\(imageSize)); \(runs) runs", "",
      "| measure | latency |", "|---|---|",
      "| end to end (decode + letterbox + run + NMS) | \(latency(endToEnd)) |",
      "| bare ONNX Runtime run, same input tensor | \(latency(bareRun)) |",
      String(format: "| ratio end to end / bare | p50 %.3f×, p95 %.3f× |", ratioP50, ratioP95),
      "| stage: JPEG decode | \(latency(decode)) |",
      "| stage: letterbox + tensor packing | \(latency(preprocess)) |",
      "| stage: NMS + box scaling | \(latency(postprocess)) |",
    ].joined(separator: "\n")
  }
}
