import Foundation
import Imaging
import Logging
import ONNXRuntime

/// CLIP's image preprocessing as an ONNX graph (scripts/make-preprocess-graph) run by ONNX
/// Runtime: on a GPU the resize and normalization run where the model does, and only the
/// decoded image crosses the bus. The geometry (resize size, crop, pad) is the exact path's
/// (`ImageTransform.geometry`), fed to the graph as inputs, so one graph serves every model;
/// only the resampling arithmetic differs from the CPU path (docs/gpu.md, "Preprocessing on
/// the device": within one level of Pillow on the fixtures).
public final class GraphPreprocessor: Sendable {
  public let transform: ImageTransform
  /// The element type of the visual tower's input: float32, or float16 for FP16 models.
  public let outputType: ElementType
  public let session: Session
  private let mean: Tensor
  private let std: Tensor

  public init(
    transform: ImageTransform, outputType: ElementType, environment: ORTEnvironment,
    configuration: SessionConfiguration = SessionConfiguration(),
    logger: Logger = Logger(label: "glimpse.clip")
  ) throws {
    self.transform = transform
    self.outputType = outputType
    let path = try Self.graphFile(filter: transform.resizeFilter, outputType: outputType)
    session = try Session(
      modelPath: path, environment: environment,
      configuration: Self.sessionConfiguration(from: configuration), logger: logger)
    mean = try Tensor(float32: transform.mean, shape: [3])
    std = try Tensor(float32: transform.std, shape: [3])
  }

  /// One image's visual input, [1, 3, H, W] in `outputType`, as `CLIPModel.preparedImage`.
  public func prepare(_ image: RGBImage) throws -> Tensor {
    let geometry = transform.geometry(width: image.width, height: image.height)
    let pixels = try Tensor(zeros: .uint8, shape: [image.height, image.width, 3])
    image.pixels.withUnsafeBytes {
      pixels.buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count)
    }
    let (top, bottom) = (geometry.vertical.before, geometry.vertical.after)
    let (left, right) = (geometry.horizontal.before, geometry.horizontal.after)
    let fill = try Tensor(zeros: .uint8, shape: [])
    fill.buffer.pointer.storeBytes(of: geometry.fill, as: UInt8.self)
    let outputs = try session.run([
      "image": pixels,
      "sizes": Tensor(int64: [Int64(geometry.height), Int64(geometry.width)], shape: [2]),
      "pads": Tensor(int64: [0, top, left, 0, 0, bottom, right, 0].map(Int64.init), shape: [8]),
      "fill": fill, "mean": mean, "std": std,
    ])
    guard let output = outputs["pixel_values"] else {
      throw CLIPError.unexpectedModel("the preprocessing graph gave no pixel_values")
    }
    return output
  }

  /// How far apart two normalized NCHW inputs of `transform` are, per value, in levels of
  /// 255: the unit the fidelity targets are set in (docs/gpu.md).
  public static func levelDifferences(_ a: [Float], _ b: [Float], transform: ImageTransform) -> [Float] {
    let plane = transform.width * transform.height
    return zip(a, b).enumerated().map { index, pair in
      abs(pair.0 - pair.1) * transform.std[(index / plane) % 3] * 255
    }
  }

  /// The model's session settings, less what does not suit a graph whose input size changes
  /// with every image: CUDA graphs replay one shape, TensorRT would build an engine per image
  /// size, and the optimized-model cache would only add a file per start (there are no
  /// weights to optimize).
  static func sessionConfiguration(from model: SessionConfiguration) -> SessionConfiguration {
    var configuration = model.withoutCUDAGraph ?? model
    configuration.optimizedModelCacheFolder = nil
    configuration.providers.removeAll {
      if case .tensorRT = $0 { return true }
      return false
    }
    return configuration
  }

  /// The graph for `filter` and `outputType`, written once into the temporary folder under a
  /// name that changes with its contents (ORT's C API opens sessions from files here).
  static func graphFile(filter: Resample.Filter, outputType: ElementType) throws -> String {
    let encoded: String
    switch (filter, outputType) {
    case (.bicubic, .float32): encoded = PreprocessGraphs.bicubicFloat32
    case (.bicubic, .float16): encoded = PreprocessGraphs.bicubicFloat16
    case (.bilinear, .float32): encoded = PreprocessGraphs.bilinearFloat32
    case (.bilinear, .float16): encoded = PreprocessGraphs.bilinearFloat16
    default:
      throw CLIPError.unexpectedModel("the visual tower takes \(outputType), not float32 or float16")
    }
    guard let graph = Data(base64Encoded: encoded) else {
      preconditionFailure("PreprocessGraphs holds invalid base64: rerun scripts/make-preprocess-graph")
    }
    let hash = graph.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("glimpse-preprocess-\(String(hash, radix: 16)).onnx")
    if !FileManager.default.fileExists(atPath: url.path) {
      try graph.write(to: url, options: .atomic)
    }
    return url.path
  }
}

extension CLIPModel {
  /// The graph preprocessor for this model's transform and input type, run with
  /// `configuration` (the model's device).
  public func graphPreprocessor(
    environment: ORTEnvironment, configuration: SessionConfiguration = SessionConfiguration(),
    logger: Logger = Logger(label: "glimpse.clip")
  ) throws -> GraphPreprocessor {
    try GraphPreprocessor(
      transform: transform, outputType: visual.inputs[0].elementType, environment: environment,
      configuration: configuration, logger: logger)
  }
}
