import Foundation
import Hardware
import Imaging
import ONNXRuntime
import Testing

@testable import CLIP

/// The ONNX preprocessing graph (`GraphPreprocessor`, on the CPU provider here, the CUDA one on
/// a GPU) against open_clip's own transform and against the exact CPU path: its inputs in
/// 8-bit levels, and the embeddings they give. docs/gpu.md records the figures printed here.
@Suite struct GraphPreprocessorTests {
  static func environment() throws -> ORTEnvironment {
    try ORTEnvironment.shared(library: ORTLibrary.load(explicitPath: CLIPModelTests.library))
  }

  /// The largest distance between two normalized NCHW inputs, in levels of 255.
  static func levelDistance(_ a: [Float], _ b: [Float], transform: ImageTransform) -> Float {
    GraphPreprocessor.levelDifferences(a, b, transform: transform).max() ?? .infinity
  }

  /// The values of two normalized NCHW inputs more than one level apart.
  static func valuesBeyondOneLevel(_ a: [Float], _ b: [Float], transform: ImageTransform) -> Int {
    GraphPreprocessor.levelDifferences(a, b, transform: transform).filter { $0 > 1.001 }.count
  }

  /// The image fixtures (every format and orientation, 12 MP included) against open_clip's
  /// input tensors, and the tiny model's embeddings against the exact path's. ORT's
  /// antialiased cubic is within one level of Pillow but on one fixture, where a few values
  /// differ by up to 5 (docs/gpu.md, "Preprocessing on the device").
  @Test func imageFixturesAreWithinOneLevelOfOpenCLIPButForAFewValues() throws {
    let model = try CLIPModelTests.model()
    let graph = try model.graphPreprocessor(environment: Self.environment())
    let folder = CLIPModelTests.fixtures
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    let names = files.filter { $0.hasSuffix(".clip224.npy") }.sorted()
    #expect(names.count >= 25, "run scripts/make-image-fixtures")
    var (worstLevels, worstCosine, beyond, total): (Float, Float, Int, Int) = (0, 1, 0, 0)
    for name in names {
      let stem = String(name.dropLast(".clip224.npy".count))
      let file = try #require(files.first { $0.hasPrefix(stem + ".") && !$0.hasSuffix(".npy") })
      let image = try ImageDecoder().decode(Data(contentsOf: folder.appendingPathComponent(file)))
      let input = try graph.prepare(image)
      let expected = try NumpyFile.read(folder.appendingPathComponent(name)).floatValues()
      let levels = Self.levelDistance(input.floatValues(), expected, transform: model.transform)
      let cosine = dot(
        try model.embed(imageInput: input)[0], try model.embed(imageInput: model.preparedImage(image))[0])
      #expect(levels <= 5.001, "\(file): \(levels) levels from open_clip")
      worstLevels = max(worstLevels, levels)
      worstCosine = min(worstCosine, cosine)
      beyond += Self.valuesBeyondOneLevel(input.floatValues(), expected, transform: model.transform)
      total += expected.count
    }
    #expect(worstCosine >= 0.9999, "lowest cosine to the exact path \(worstCosine)")
    #expect(Double(beyond) / Double(total) < 1e-4, "\(beyond) of \(total) values beyond one level")
    print(
      "graph preprocessing, \(names.count) image fixtures: worst \(worstLevels) levels, "
        + "\(beyond) of \(total) values beyond one level, lowest cosine \(worstCosine)")
  }

  /// Every `preprocess_cfg.json` mode (shortest, longest with fills, squash; bicubic and
  /// bilinear; square and not) against open_clip's goldens.
  @Test func everyModeIsWithinOneLevelOfOpenCLIP() throws {
    let environment = try Self.environment()
    var worst: Float = 0
    for (name, cfg) in try PreprocessFidelityTests.cases.sorted(by: { $0.key < $1.key }) {
      var preprocessing = CLIPPreprocessing.openCLIPDefaults(size: (224, 224))
      try preprocessing.apply(preprocessCfg: cfg)
      let transform = preprocessing.transform
      let graph = try GraphPreprocessor(transform: transform, outputType: .float32, environment: environment)
      for image in PreprocessFidelityTests.imageNames {
        let input = try graph.prepare(try PreprocessFidelityTests.png("images/\(image).png"))
        #expect(input.shape == [1, 3, transform.height, transform.width], "\(image) \(name)")
        let golden = try PreprocessFidelityTests.png("goldens/\(image).\(name).png")
        var expected = [Float](repeating: 0, count: transform.elementCount)
        expected.withUnsafeMutableBufferPointer { transform.pack(golden, into: $0.baseAddress!) }
        let levels = Self.levelDistance(input.floatValues(), expected, transform: transform)
        #expect(levels <= 1.001, "\(image) \(name): \(levels) levels")
        worst = max(worst, levels)
      }
    }
    print("graph preprocessing, every preprocess_cfg mode: \(worst) levels from open_clip")
  }

  /// Each family's tiny model (CLIP, SigLIP 2, XLM-R) embeds the graph's input as the exact
  /// path's.
  @Test(arguments: FamilyModelTests.families) func familyEmbeddingsMatchTheExactPath(_ family: String) throws
  {
    let model = try FamilyModelTests.model(family)
    let graph = try model.graphPreprocessor(environment: Self.environment())
    for image in try FamilyModelTests.images(family) {
      let exact = try model.preparedImage(image)
      let input = try graph.prepare(image)
      let levels = Self.levelDistance(input.floatValues(), exact.floatValues(), transform: model.transform)
      let cosine = dot(try model.embed(imageInput: input)[0], try model.embed(imageInput: exact)[0])
      #expect(levels <= 2.001 && cosine >= 0.9999, "\(family): \(levels) levels, cosine \(cosine)")
      print("graph preprocessing, \(family): \(levels) levels from the exact path, cosine \(cosine)")
    }
  }

  /// FP16 models get half floats from the graph itself: the same values, rounded.
  @Test func float16GraphGivesTheFloat32ValuesRounded() throws {
    let environment = try Self.environment()
    let transform = try CLIPModelTests.model().transform
    let image = try PreprocessFidelityTests.png("images/landscape-301x187.png")
    let single = try GraphPreprocessor(transform: transform, outputType: .float32, environment: environment)
    let half = try GraphPreprocessor(transform: transform, outputType: .float16, environment: environment)
    let output = try half.prepare(image)
    #expect(output.elementType == .float16)
    let difference = zip(try single.prepare(image).floatValues(), output.floatValues()).map { abs($0 - $1) }
      .max()
    #expect(try #require(difference) <= 2e-3)
  }

  /// The graph's input size changes with every image: no CUDA graphs, no TensorRT, whatever
  /// the model runs with.
  @Test func theGraphRunsWithoutCUDAGraphsOrTensorRT() {
    var cuda = CUDAOptions()
    cuda.enableCUDAGraph = true
    var model = SessionConfiguration()
    model.providers = [.tensorRT(TensorRTOptions(fp16: true)), .cuda(cuda)]
    model.optimizedModelCacheFolder = "/tmp/cache"
    let graph = GraphPreprocessor.sessionConfiguration(from: model)
    #expect(graph.providers == [.cuda(CUDAOptions())])
    #expect(!graph.usesCUDAGraph && graph.optimizedModelCacheFolder == nil)
  }
}
