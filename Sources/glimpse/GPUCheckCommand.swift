import ArgumentParser
import CLIP
import Foundation
import Hardware
import Imaging
import ONNXRuntime

/// `glimpse gpu-check`: the GPU paths against the CPU ones on a folder of images, as JSON:
/// nvJPEG's pixels against the CPU decoder's, and the ONNX preprocessing graph on the model's
/// device against the exact CPU path (levels of 255, embedding cosine, time per image). What
/// bench/gpu_session.sh runs first on a lent GPU, since neither can run in CI.
struct GPUCheck: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gpu-check",
    abstract: "Compare nvJPEG decoding and the ONNX preprocessing graph with the CPU paths (JSON).")

  @Argument(help: "Folder of JPEG, PNG and WebP images.")
  var images: String

  @OptionGroup var model: CLIPModelOptions

  struct Row: Encodable {
    var file: String
    var nvjpeg: String
    var decodeMaxDifference: Int?
    var decodeMeanDifference: Double?
    var graphLevels: Float
    var cosine: Float
    var graphMilliseconds: Double
    var exactMilliseconds: Double
  }

  struct Report: Encodable {
    var device: String
    var nvjpeg: String
    var graphProviders: [String]
    var images: [Row]
  }

  func run() throws {
    let logger = model.logger("glimpse.gpu-check")
    let (clip, choice) = try model.load(logger: logger)
    let environment = try ORTEnvironment.shared(library: model.runtime.loadLibrary())
    let graph = try clip.graphPreprocessor(
      environment: environment,
      configuration: model.runtime.sessionConfiguration(for: choice, precision: clip.bundle.precision),
      logger: logger)
    let names = try FileManager.default.contentsOfDirectory(atPath: images).sorted()
      .filter { [".jpg", ".jpeg", ".png", ".webp"].contains(where: $0.lowercased().hasSuffix) }
    // `--decode cpu` leaves nvJPEG out: the graph's figures then survive a crash in it.
    let decoding = try model.runtime.gpu.request(tensorRT: false, environment: model.runtime.environment)
      .decode
    let nvjpeg = decoding == .cpu ? nil : try? NVJPEG.shared.get()
    let rows = try names.map {
      try check(URL(fileURLWithPath: images).appendingPathComponent($0), clip, graph, nvjpeg)
    }
    let library: String
    switch (decoding, NVJPEG.shared) {
    case (.cpu, _): library = "not checked (--decode cpu)"
    case (_, .success(let decoder)): library = decoder.library.name
    case (_, .failure(let missing)): library = "\(missing)"
    }
    let report = Report(
      device: "\(choice.device)", nvjpeg: library, graphProviders: graph.session.providers, images: rows)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    print(String(decoding: try encoder.encode(report), as: UTF8.self))
  }

  private func check(_ url: URL, _ clip: CLIPModel, _ graph: GraphPreprocessor, _ nvjpeg: NVJPEG?) throws
    -> Row
  {
    let data = try Data(contentsOf: url)
    let image = try ImageDecoder().decode(data)
    var row = Row(
      file: url.lastPathComponent, nvjpeg: "cpu", graphLevels: 0, cosine: 0, graphMilliseconds: 0,
      exactMilliseconds: 0)
    if let decoder = nvjpeg {
      try compareDecoders(data, image, decoder, into: &row)
    }
    var start = ContinuousClock.now
    let exact = try clip.preparedImage(image)
    row.exactMilliseconds = start.duration(to: .now).seconds * 1000
    start = ContinuousClock.now
    let input = try graph.prepare(image)
    row.graphMilliseconds = start.duration(to: .now).seconds * 1000
    row.graphLevels =
      GraphPreprocessor.levelDifferences(input.floatValues(), exact.floatValues(), transform: clip.transform)
      .max() ?? 0
    row.cosine = dot(try clip.embed(imageInput: input)[0], try clip.embed(imageInput: exact)[0])
    return row
  }

  /// nvJPEG's upright pixels against the CPU decoder's, for the files nvJPEG takes.
  private func compareDecoders(_ data: Data, _ image: RGBImage, _ decoder: NVJPEG, into row: inout Row) throws
  {
    try data.withUnsafeBytes { bytes in
      guard let header = JPEGHeader(bytes), header.suitsGPUDecoding else { return }
      do {
        let decoded = try decoder.decodeRGB(bytes)
        let raw = RGBImage(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
        let upright = EXIFOrientation(rawValue: header.orientation)?.apply(to: raw) ?? raw
        guard upright.width == image.width && upright.height == image.height else {
          row.nvjpeg = "size \(upright.width)x\(upright.height), CPU \(image.width)x\(image.height)"
          return
        }
        let differences = zip(upright.pixels, image.pixels).map { abs(Int($0) - Int($1)) }
        row.nvjpeg = "nvjpeg"
        row.decodeMaxDifference = differences.max()
        row.decodeMeanDifference = Double(differences.reduce(0, +)) / Double(max(1, differences.count))
      } catch {
        row.nvjpeg = "error: \(error)"
      }
    }
  }
}
