import Foundation
import Imaging
import Logging
import ONNXRuntime

/// One detected object, in the source image's pixels.
public struct Detection: Sendable, Equatable {
  public var box: BoundingBox
  public var confidence: Float
  public var classIndex: Int
  public var label: String
}

/// A loaded Ultralytics detection export (YOLOv5u/v8/11/… `format=onnx`): float32 or float16
/// input, static or dynamic batch and size, any class count. It runs Ultralytics' predictor
/// pipeline: LetterBox, /255, the model, `non_max_suppression`, `scale_boxes`.
///
/// The session is safe to share, so one detector serves every request.
public final class YOLODetector: Sendable {
  public let session: Session
  public let classNames: [String]
  /// The model's input size: the letterbox target.
  public let inputHeight: Int
  public let inputWidth: Int
  public let stride: Int
  public let inputType: ElementType
  /// Whether one run can take several images (dynamic batch dimension).
  public let acceptsBatches: Bool

  /// Images with a side shorter than this are refused: a letterbox of a few pixels carries
  /// nothing a detector can see.
  public static let minimumImageSide = 8
  /// Input size of a dynamic-size export without `imgsz` in its metadata (Ultralytics' default).
  public static let defaultImageSize = 640

  public init(
    modelPath: String, environment: ORTEnvironment,
    configuration: SessionConfiguration = SessionConfiguration(),
    logger: Logger = Logger(label: "glimpse.detection")
  ) throws {
    session = try Session(
      modelPath: modelPath, environment: environment, configuration: configuration, logger: logger)
    let metadata = try UltralyticsMetadata(properties: session.metadata.custom)
    let input = try Self.checkInput(session)
    inputType = input.elementType
    acceptsBatches = input.shape[0] < 0
    (inputHeight, inputWidth) = try Self.inputSize(input: input, metadata: metadata)
    stride = metadata.stride ?? 32
    classNames = try Self.checkOutput(session, metadata: metadata)
  }

  public var classCount: Int { classNames.count }

  // MARK: Model checks

  private static func checkInput(_ session: Session) throws -> TensorInfo {
    guard session.inputs.count == 1, let input = session.inputs.first else {
      throw DetectionError.unexpectedModel(
        "a detector has one image input, this model has \(session.inputs.count)")
    }
    guard input.shape.count == 4, input.shape[1] == 3 || input.shape[1] < 0 else {
      throw DetectionError.unexpectedModel("the input \(input) is not an NCHW RGB image")
    }
    guard input.elementType == .float32 || input.elementType == .float16 else {
      throw DetectionError.unexpectedModel("the input \(input) is neither float32 nor float16")
    }
    return input
  }

  /// A fixed input shape wins; a free one takes the exported `imgsz`.
  private static func inputSize(input: TensorInfo, metadata: UltralyticsMetadata) throws -> (Int, Int) {
    let exported = metadata.imageSize
    let height = input.shape[2] > 0 ? input.shape[2] : exported?.height ?? defaultImageSize
    let width = input.shape[3] > 0 ? input.shape[3] : exported?.width ?? defaultImageSize
    return (height, width)
  }

  /// The output must be Ultralytics' detection head, `[batch, 4 + classes, anchors]`.
  private static func checkOutput(_ session: Session, metadata: UltralyticsMetadata) throws -> [String] {
    if let task = metadata.task, task != "detect" {
      throw DetectionError.unexpectedModel(
        "the model's task is '\(task)'; only detection exports (task 'detect') are supported")
    }
    if metadata.endToEnd {
      throw DetectionError.unexpectedModel(
        "end-to-end exports (NMS inside the model, output [batch, 300, 6]) are not supported;"
          + " export with end2end=False / nms=False")
    }
    guard let output = session.outputs.first, output.shape.count == 3 else {
      let shapes = session.outputs.map(\.description).joined(separator: ", ")
      throw DetectionError.unexpectedModel(
        "the output must be [batch, 4 + classes, anchors], this model gives \(shapes)")
    }
    guard output.elementType == .float32 || output.elementType == .float16 else {
      throw DetectionError.unexpectedModel("the output \(output) is neither float32 nor float16")
    }
    let channels = output.shape[1]
    if let names = metadata.names {
      guard channels < 0 || channels == 4 + names.count else {
        throw DetectionError.unexpectedModel(
          "the output \(output) has \(channels) channels, but 4 + \(names.count) classes are named"
            + " (a segmentation or pose head?)")
      }
      return names
    }
    guard channels > 4 else {
      throw DetectionError.unexpectedModel(
        "the output \(output) has no class channels and the model names no classes")
    }
    return (0..<channels - 4).map { "class\($0)" }
  }

  // MARK: Detection

  /// Detections in each image, best first, boxes in the image's own pixels.
  public func detect(_ images: [RGBImage], options: DetectionOptions = DetectionOptions()) throws
    -> [[Detection]]
  {
    guard !images.isEmpty else { throw DetectionError.invalidRequest("no images to detect on") }
    try options.validate()
    let letterboxes = try images.map(letterbox(for:))
    if acceptsBatches {
      return try run(images, letterboxes: letterboxes, options: options)
    }
    return try zip(images, letterboxes).map { image, letterbox in
      try run([image], letterboxes: [letterbox], options: options)[0]
    }
  }

  public func detect(_ image: RGBImage, options: DetectionOptions = DetectionOptions()) throws
    -> [Detection]
  {
    try detect([image], options: options)[0]
  }

  /// Decodes encoded bytes (JPEG, PNG, WebP; EXIF orientation applied) and detects.
  public func detect(
    encoded data: Data, decoder: ImageDecoder = ImageDecoder(),
    options: DetectionOptions = DetectionOptions()
  ) throws -> [Detection] {
    let image: RGBImage
    do {
      image = try decoder.decode(data)
    } catch let error as ImagingError {
      throw DetectionError.undecodableImage(error)
    }
    return try detect(image, options: options)
  }

  /// The letterbox geometry for an image, or a clear error for images too small to use.
  public func letterbox(for image: RGBImage) throws -> Letterbox {
    guard min(image.width, image.height) >= Self.minimumImageSide else {
      throw DetectionError.invalidImage(
        "image is \(image.width)×\(image.height); detection needs at least"
          + " \(Self.minimumImageSide) pixels on each side")
    }
    return Letterbox(
      sourceWidth: image.width, sourceHeight: image.height, targetWidth: inputWidth,
      targetHeight: inputHeight)
  }

  /// The model input for images with their letterboxes: NCHW RGB /255, in the model's type.
  public func input(_ images: [RGBImage], letterboxes: [Letterbox]) throws -> Tensor {
    let tensor = try Tensor(zeros: inputType, shape: [images.count, 3, inputHeight, inputWidth])
    let perImage = 3 * inputHeight * inputWidth
    let inputType = self.inputType
    // Images are independent: prepare them on all cores.
    DispatchQueue.concurrentPerform(iterations: images.count) { index in
      let boxed = letterboxes[index].apply(to: images[index])
      if inputType == .float16 {
        tensor.withMutableElements(as: Float16.self) {
          Self.pack(boxed, into: $0.baseAddress! + index * perImage) { Float16($0) }
        }
      } else {
        tensor.withMutableElements(as: Float.self) {
          Self.pack(boxed, into: $0.baseAddress! + index * perImage) { $0 }
        }
      }
    }
    return tensor
  }

  /// Planar RGB, each byte / 255 in float32 (then rounded to float16 for half models), as
  /// Ultralytics' `im.float().div_(255)` / `im.half().div_(255)`. The 256 quotients come
  /// from a table (the same divisions, done once), and rows are split across cores: a
  /// 640×640 input is 1.2 million values, most of a detection's CPU time on a GPU.
  @inline(__always)
  static func pack<T>(_ image: RGBImage, into output: UnsafeMutablePointer<T>, _ convert: (Float) -> T) {
    byteQuotients.withUnsafeBufferPointer { quotients in
      image.packPlanes(into: output) { byte, _ in convert(quotients[Int(byte)]) }
    }
  }

  /// `Float(byte) / 255` for every byte.
  static let byteQuotients: [Float] = (0..<256).map { Float($0) / 255 }

  private func run(_ images: [RGBImage], letterboxes: [Letterbox], options: DetectionOptions) throws
    -> [[Detection]]
  {
    let input = try input(images, letterboxes: letterboxes)
    let outputs = try session.run([session.inputs[0].name: input])
    guard let output = outputs[session.outputs[0].name] else {
      throw DetectionError.unexpectedModel("the model returned no output")
    }
    return try detections(output: output, letterboxes: letterboxes, options: options)
  }

  /// Post-processing of a raw `[batch, 4 + classes, anchors]` output.
  public func detections(output: Tensor, letterboxes: [Letterbox], options: DetectionOptions) throws
    -> [[Detection]]
  {
    let shape = output.shape
    guard shape.count == 3, shape[0] == letterboxes.count, shape[1] == 4 + classCount else {
      throw DetectionError.unexpectedModel(
        "output shape \(shape) is not [\(letterboxes.count), 4 + \(classCount), anchors]")
    }
    let anchors = shape[2]
    func decode(_ values: UnsafeBufferPointer<Float>) -> [[Detection]] {
      letterboxes.enumerated().map { index, letterbox in
        let base = index * shape[1] * anchors
        let kept = NonMaxSuppression.run(anchors: anchors, classes: classCount, options: options) {
          channel, anchor in values[base + channel * anchors + anchor]
        }
        return kept.map { candidate in
          Detection(
            box: letterbox.sourceBox(candidate.box), confidence: candidate.confidence,
            classIndex: candidate.classIndex, label: classNames[candidate.classIndex])
        }
      }
    }
    // A float32 output (2.8 MB for YOLOv8n) is read in place; float16 is converted first.
    if output.elementType == .float32 { return output.withElements(as: Float.self, decode) }
    return output.floatValues().withUnsafeBufferPointer(decode)
  }
}
