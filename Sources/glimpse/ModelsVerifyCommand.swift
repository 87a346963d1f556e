import ArgumentParser
import CLIP
import Foundation
import Hardware
import Imaging
import Logging
import ONNXRuntime

/// `glimpse models verify`: how close a model folder's FP16 and INT8 files come to its FP32
/// files on the user's own images and texts — the check to run before trusting a quantized
/// model with real weights.
struct ModelsVerify: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Compare a CLIP folder's fp16 and int8 files with its fp32 files on your images and texts.")

  @Argument(help: "CLIP model folder (Immich layout).")
  var folder: String

  @Option(name: .customLong("image"), help: "An image to compare on. Repeatable.")
  var images: [String] = []

  @Option(name: .customLong("text"), help: "A text to compare on. Repeatable.")
  var texts: [String] = ["a photo of a dog", "a red shoe on a white background"]

  @Option(help: "Lowest acceptable cosine to fp32 (exit status 1 below it).")
  var minimumCosine: Float = 0.99

  @OptionGroup var runtime: RuntimeOptions

  func run() async throws {
    runtime.bootstrapLogging()
    let logger = Logger(label: "glimpse.models.verify")
    let (environment, choice) = try runtime.prepareDevice(logger: logger)
    let url = URL(fileURLWithPath: folder)
    let decoded = try images.map { try ImageDecoder().decode(Data(contentsOf: URL(fileURLWithPath: $0))) }
    func load(_ precision: Precision) throws -> CLIPModel {
      let bundle = try CLIPModelBundle(folder: url, precision: precision)
      return try CLIPModel(
        bundle: bundle, environment: environment,
        configuration: runtime.sessionConfiguration(for: choice, precision: precision), logger: logger)
    }
    let reference = try load(.fp32)
    let referenceImages = decoded.isEmpty ? [] : try reference.embedImages(decoded)
    let referenceTexts = try reference.embedTexts(texts)
    var passed = true
    for precision in [Precision.fp16, .int8] {
      guard let model = try? load(precision) else {
        print("\(precision): no \(precision) files in \(folder)")
        continue
      }
      let imageCosines = decoded.isEmpty ? [] : zip(referenceImages, try model.embedImages(decoded)).map(dot)
      let textCosines = zip(referenceTexts, try model.embedTexts(texts)).map(dot)
      let lowest = (imageCosines + textCosines).min() ?? 1
      passed = passed && lowest >= minimumCosine
      print(
        String(
          format: "%@: lowest cosine to fp32 %.5f over %d images and %d texts — %@", precision.rawValue,
          lowest,
          imageCosines.count, textCosines.count, lowest >= minimumCosine ? "ok" : "TOO FAR"))
    }
    if !passed { throw ExitCode.failure }
  }
}
