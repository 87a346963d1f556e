import Foundation
import Hardware
import Imaging
import ONNXRuntime
import Testing

@testable import CLIP

/// The whole pipeline (decode, preprocess, run, normalize) against the Python reference
/// (Pillow + open_clip's transforms + onnxruntime) on the tiny model.
@Suite struct CLIPModelTests {
  static let root = TokenizerTests.root
  static let fixtures = root.appendingPathComponent("Tests/ImagingTests/Fixtures/generated")
  static let library = root.appendingPathComponent(".deps/onnxruntime/lib/libonnxruntime.so.1.31.1").path

  static func model(_ precision: Precision = .fp32) throws -> CLIPModel {
    let environment = try ORTEnvironment.shared(library: ORTLibrary.load(explicitPath: library))
    let bundle = try CLIPModelBundle(
      folder: root.appendingPathComponent("models/test/clip-tiny"), precision: precision)
    return try CLIPModel(bundle: bundle, environment: environment)
  }

  static var fixtureImages: [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []
    return names.filter { $0.hasSuffix(".embedding.npy") && $0 != "texts.embedding.npy" }.sorted()
  }

  @Test func embeddingsMatchThePythonReference() throws {
    let model = try Self.model()
    let names = Self.fixtureImages
    #expect(names.count >= 25, "run scripts/make-image-fixtures")
    var worst: Float = 1
    for name in names {
      let stem = String(name.dropLast(".embedding.npy".count))
      let file = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path)
        .first { $0.hasPrefix(stem + ".") && !$0.hasSuffix(".npy") }
      let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(try #require(file)))
      let embedding = try model.embedImages([ImageDecoder().decode(data)])[0]
      let expected = try NumpyFile.read(Self.fixtures.appendingPathComponent(name)).floatValues()
      worst = min(worst, dot(embedding, expected))
    }
    #expect(worst >= 0.9999, "lowest cosine \(worst)")
  }

  @Test func textEmbeddingsMatchThePythonReference() throws {
    let model = try Self.model()
    let goldens = try TokenizerTests.goldens().prefix(64).map(\.text)
    let embeddings = try model.embedTexts(Array(goldens))
    let expected = try NumpyFile.read(Self.fixtures.appendingPathComponent("texts.embedding.npy"))
    let values = expected.floatValues()
    for (row, embedding) in embeddings.enumerated() {
      let reference = Array(values[row * model.dimension..<(row + 1) * model.dimension])
      #expect(dot(embedding, reference) >= 0.9999, "text \(row)")
    }
  }

  @Test func batchedEqualsOneByOne() throws {
    let model = try Self.model()
    let images = try ["jpeg_baseline_640x480.jpg", "png_rgb_500x400.png", "jpeg_tiny_32x32.jpg"].map {
      try ImageDecoder().decode(Data(contentsOf: Self.fixtures.appendingPathComponent($0)))
    }
    let batched = try model.embedImages(images)
    for (index, image) in images.enumerated() {
      let single = try model.embedImages([image])[0]
      #expect(dot(single, batched[index]) > 0.99999)
    }
  }

  @Test func fp16ModelIsCloseToFP32() throws {
    let full = try Self.model(.fp32)
    let half = try Self.model(.fp16)
    #expect(half.visual.inputs[0].elementType == .float16)
    let image = try ImageDecoder().decode(
      Data(contentsOf: Self.fixtures.appendingPathComponent("jpeg_baseline_640x480.jpg")))
    #expect(dot(try full.embedImages([image])[0], try half.embedImages([image])[0]) > 0.999)
    #expect(dot(try full.embedTexts(["a dog"])[0], try half.embedTexts(["a dog"])[0]) > 0.999)
  }

  /// The INT8 towers (scripts/quantize-clip) give what onnxruntime in Python gives on the
  /// same files, and stay close to FP32.
  @Test func int8TowersMatchThePythonReferenceAndStayCloseToFP32() throws {
    let full = try Self.model(.fp32)
    let quantized = try Self.model(.int8)
    #expect(quantized.bundle.visualModel.lastPathComponent == "model.int8.onnx")
    let golden = Self.root.appendingPathComponent("models/test/clip-tiny/golden")
    for (session, name) in [(quantized.visual, "visual"), (quantized.textual, "textual")] {
      let input = try NumpyFile.read(golden.appendingPathComponent("\(name).int8.input.npy"))
      let expected = try NumpyFile.read(golden.appendingPathComponent("\(name).int8.output.npy"))
        .floatValues()
      let output = try session.run([session.inputs[0].name: input])[session.outputs[0].name]!.floatValues()
      let worst = zip(output, expected).map { abs($0 - $1) }.max() ?? .infinity
      #expect(worst < 1e-4, "\(name): largest difference to the Python reference \(worst)")
    }
    var lowest: Float = 1
    for name in ["jpeg_baseline_640x480.jpg", "png_rgb_500x400.png", "jpeg_gray_300x200.jpg"] {
      let image = try ImageDecoder().decode(Data(contentsOf: Self.fixtures.appendingPathComponent(name)))
      lowest = min(lowest, dot(try full.embedImages([image])[0], try quantized.embedImages([image])[0]))
    }
    lowest = min(lowest, dot(try full.embedTexts(["a dog"])[0], try quantized.embedTexts(["a dog"])[0]))
    #expect(lowest > 0.99, "lowest cosine INT8 to FP32 \(lowest)")
  }

  /// A text tower with a free sequence length gets the batch padded to its longest text,
  /// not to 77, and gives the fixed-77 tower's embeddings (same weights, causal mask).
  @Test func dynamicLengthTextTowerPadsToTheLongestTextWithTheSameEmbeddings() throws {
    let fixed = try Self.model()
    let environment = try ORTEnvironment.shared(library: ORTLibrary.load(explicitPath: Self.library))
    let dynamic = try CLIPModel(
      bundle: CLIPModelBundle(folder: Self.root.appendingPathComponent("models/test/clip-tiny-dynamic")),
      environment: environment)
    let texts = [
      "a dog", "a photo of a red shoe on a wooden floor", String(repeating: "very long text ", count: 40),
    ]
    let longest = try dynamic.tokenizer.tokenCount(texts[1])
    #expect(longest < 20)
    #expect(
      try dynamic.textInput(Array(texts.prefix(2))).shape == [2, longest], "padded to the longest text")
    #expect(try dynamic.textInput(texts).shape == [3, 77], "a text over the context is cut at 77")
    for (index, pair) in zip(try fixed.embedTexts(texts), try dynamic.embedTexts(texts)).enumerated() {
      #expect(dot(pair.0, pair.1) > 0.99999, "text \(index)")
    }
    #expect(dot(try fixed.embedTexts(["a dog"])[0], try dynamic.embedTexts(["a dog"])[0]) > 0.99999, "alone")
  }

  @Test func zeroShotProbabilitiesSumToOne() throws {
    let model = try Self.model()
    let image = try ImageDecoder().decode(
      Data(contentsOf: Self.fixtures.appendingPathComponent("png_rgb_500x400.png")))
    let result = try model.classify(image, labels: ["a dog", "a cat", "a car"])
    #expect(result.count == 3)
    #expect(abs(result.map(\.probability).reduce(0, +) - 1) < 1e-5)
    #expect(model.logitScale == 100)
  }

  @Test func badModelFoldersAreClearErrors() throws {
    #expect(throws: CLIPError.self) {
      try CLIPModelBundle(folder: URL(fileURLWithPath: "/nonexistent/model"))
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clip-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try Data("{\"embed_dim\": 512}".utf8).write(to: folder.appendingPathComponent("config.json"))
    #expect { try CLIPModelBundle(folder: folder) } throws: { "\($0)".contains("config.json") }
  }

  @Test func emptyRequestsAreRefused() throws {
    let model = try Self.model()
    #expect(throws: CLIPError.self) { try model.embedImages([]) }
    #expect(throws: CLIPError.self) { try model.embedTexts([]) }
    #expect(throws: CLIPError.self) { try model.classify(RGBImage(width: 8, height: 8), labels: []) }
    let tenMegabytes = String(repeating: "a photo of a dog ", count: 10 * 1024 * 1024 / 17)
    #expect { try model.embedTexts([tenMegabytes]) } throws: { "\($0)".contains("over the limit") }
  }
}
