import Foundation
import Imaging
import ONNXRuntime
import Testing

@testable import CLIP

/// Tiny random-weight models of each family, exported from open_clip by scripts/export-clip,
/// against open_clip's own preprocessing, tokenizer, onnxruntime embeddings and zero-shot
/// head (scripts/make-family-models wrote the folders and references).
@Suite struct FamilyModelTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

  struct Reference: Decodable {
    var texts: [String]
    var images: [String]
  }

  static func model(_ family: String) throws -> CLIPModel {
    let environment = try ORTEnvironment.shared(
      library: ORTLibrary.load(explicitPath: CLIPModelTests.library))
    let bundle = try CLIPModelBundle(folder: fixtures.appendingPathComponent("families/\(family)"))
    return try CLIPModel(bundle: bundle, environment: environment)
  }

  static func reference(_ family: String, _ file: String) -> URL {
    fixtures.appendingPathComponent("families/\(family)/reference/\(file)")
  }

  static func texts(_ family: String) throws -> Reference {
    try JSONDecoder().decode(Reference.self, from: Data(contentsOf: reference(family, "texts.json")))
  }

  static func images(_ family: String) throws -> [RGBImage] {
    try texts(family).images.map {
      try ImageDecoder().decode(Data(contentsOf: fixtures.appendingPathComponent("preprocess/images/\($0)")))
    }
  }

  static func rows(_ url: URL) throws -> [[Float]] {
    let tensor = try NumpyFile.read(url)
    let values = tensor.floatValues()
    let width = tensor.shape[1]
    return (0..<tensor.shape[0]).map { Array(values[$0 * width..<($0 + 1) * width]) }
  }

  static let families = ["clip", "siglip2", "xlmr"]

  @Test(arguments: families) func preprocessedInputsAreWithinOneLevel(_ family: String) throws {
    let model = try Self.model(family)
    for (name, image) in zip(try Self.texts(family).images, try Self.images(family)) {
      let ours = model.transform.resizedAndCropped(image)
      let expected = try ImageDecoder().decode(
        Data(contentsOf: Self.reference(family, name.replacingOccurrences(of: ".png", with: ".input.png"))))
      #expect(ours.width == expected.width && ours.height == expected.height)
      let worst = zip(ours.pixels, expected.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
      #expect(worst <= 1, "\(family) \(name): \(worst) levels")
    }
  }

  @Test(arguments: families) func tokenIDsAreIdentical(_ family: String) throws {
    let model = try Self.model(family)
    let ids = try model.textInput(Self.texts(family).texts)
    let expected = try NumpyFile.read(Self.reference(family, "text-ids.npy"))
    #expect(ids.shape == expected.shape)
    let ours = ids.withElements(as: Int64.self) { Array($0) }
    #expect(ours == expected.withElements(as: Int64.self) { Array($0) })
  }

  @Test(arguments: families) func embeddingsMatchOpenCLIP(_ family: String) throws {
    let model = try Self.model(family)
    let images = try model.embedImages(Self.images(family))
    let texts = try model.embedTexts(Self.texts(family).texts)
    let expectedImages = try Self.rows(Self.reference(family, "image-embeddings.npy")).map(normalized)
    let expectedTexts = try Self.rows(Self.reference(family, "text-embeddings.npy")).map(normalized)
    let imageCosine = zip(images, expectedImages).map(dot).min() ?? 0
    let textCosine = zip(texts, expectedTexts).map(dot).min() ?? 0
    #expect(images.count == expectedImages.count && texts.count == expectedTexts.count)
    #expect(imageCosine >= 0.9999, "\(family): lowest image cosine \(imageCosine)")
    #expect(textCosine >= 0.9999, "\(family): lowest text cosine \(textCosine)")
  }

  /// Zero-shot probabilities with the model's own head equal open_clip's (PyTorch).
  @Test(arguments: families) func zeroShotProbabilitiesMatchOpenCLIP(_ family: String) throws {
    let model = try Self.model(family)
    let labels = try model.embedTexts(Self.texts(family).texts)
    let expected = try Self.rows(Self.reference(family, "zero-shot.npy"))
    for (row, image) in try model.embedImages(Self.images(family)).enumerated() {
      let probabilities = model.zeroShotProbabilities(image: image, labels: labels)
      let worst = zip(probabilities, expected[row]).map { abs($0 - $1) }.max() ?? .infinity
      #expect(worst <= 1e-4, "\(family) image \(row): largest difference \(worst)")
    }
  }

  /// The head and family come from the folder: SigLIP's learned scale and bias from
  /// config.json (not the config's `init_logit_bias`), the text tower's mask from its graph.
  @Test func familiesAndHeadsAreReadFromTheFolder() throws {
    let clip = try Self.model("clip")
    #expect(clip.family == .clip && clip.head == .softmax(scale: clip.head.scale))
    #expect(abs(clip.head.scale - 50) < 1e-3 && clip.textInputs.ids == "text")
    let siglip = try Self.model("siglip2")
    #expect(siglip.family == .siglip2)
    #expect(abs(siglip.head.scale - 9) < 1e-4 && abs((siglip.head.bias ?? 0) + 0.6) < 1e-4)
    #expect(siglip.textInputs.attentionMask == nil)
    #expect(try siglip.textInput(["a"]).shape == [1, 64])
    let xlmr = try Self.model("xlmr")
    #expect(xlmr.family == .multilingual)
    #expect(xlmr.head.bias == nil && abs(xlmr.head.scale - 30) < 1e-3)
    #expect(xlmr.textInputs.ids == "input_ids" && xlmr.textInputs.attentionMask == "attention_mask")
  }
}

/// Where the zero-shot head's values come from when a folder lacks the learned ones.
@Suite struct ZeroShotHeadTests {
  static func configuration(_ json: String) throws -> CLIPConfiguration {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("head-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try Data(json.utf8).write(to: folder.appendingPathComponent("config.json"))
    return try CLIPConfiguration.load(folder: folder)
  }

  @Test func learnedValuesWinOverMetadataAndInitialValues() throws {
    let learned = try Self.configuration(
      #"{"embed_dim": 8, "vision_cfg": {"image_size": 224}, "logit_scale": 110, "logit_bias": -12, "init_logit_bias": -10}"#
    )
    #expect(ZeroShotHead.resolve(learned, metadata: ["logit_bias": "-3"]) == .sigmoid(scale: 110, bias: -12))
    let initial = try Self.configuration(
      #"{"embed_dim": 8, "vision_cfg": {"image_size": 224}, "init_logit_bias": -10}"#)
    #expect(ZeroShotHead.resolve(initial, metadata: [:]) == .sigmoid(scale: 10, bias: -10))
    #expect(ZeroShotHead.resolve(initial, metadata: ["logit_bias": "-3"]) == .sigmoid(scale: 10, bias: -3))
    let clip = try Self.configuration(#"{"embed_dim": 8, "vision_cfg": {"image_size": 224}}"#)
    #expect(ZeroShotHead.resolve(clip, metadata: [:]) == .softmax(scale: 100))
    #expect(ZeroShotHead.resolve(clip, metadata: ["logit_scale": "50"]) == .softmax(scale: 50))
  }

  @Test func sigmoidProbabilitiesAreIndependentAndSoftmaxOnesSumToOne() {
    let sigmoid = ZeroShotHead.sigmoid(scale: 10, bias: -2).probabilities([0.2, 0.2, -0.5])
    #expect(abs(sigmoid[0] - 0.5) < 1e-6 && sigmoid[0] == sigmoid[1] && sigmoid[2] < 0.001)
    let softmax = ZeroShotHead.softmax(scale: 100).probabilities([0.3, 0.2, 0.1])
    #expect(abs(softmax.reduce(0, +) - 1) < 1e-6 && softmax[0] > 0.99)
  }
}
