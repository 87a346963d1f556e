import Foundation
import Hardware
import Imaging
import Logging
import ONNXRuntime
import Synchronization

/// A loaded CLIP model: both towers, the tokenizer and the preprocessing, ready to embed.
///
/// Sessions are safe to share between tasks, so one `CLIPModel` serves every request.
public final class CLIPModel: Sendable {
  public let bundle: CLIPModelBundle
  public let visual: Session
  public let textual: Session
  public let tokenizer: TextTokenizer
  public let transform: ImageTransform
  /// The zero-shot head: CLIP's softmax or SigLIP's sigmoid, with the model's scale and bias.
  public let head: ZeroShotHead
  /// Multiplier of cosine similarities in zero-shot classification.
  public var logitScale: Float { head.scale }
  /// The text tower's inputs: token ids, and the attention mask where the graph takes one.
  let textInputs: TextInputs
  /// How long each tower's session took to create (they load side by side).
  public let loadSeconds: (visual: Double, textual: Double)

  public init(
    bundle: CLIPModelBundle, environment: ORTEnvironment,
    configuration: SessionConfiguration = SessionConfiguration(),
    logger: Logger = Logger(label: "glimpse.clip")
  ) throws {
    self.bundle = bundle
    // The towers and the tokenizer load independently: side by side, start-up takes about
    // as long as the visual tower alone (graph optimization dominates).
    let towers = [bundle.visualModel.path, bundle.textualModel.path]
    let results = Mutex(ConcurrentLoads())
    DispatchQueue.concurrentPerform(iterations: 3) { index in
      guard index < towers.count else {
        let tokenizer = Result { try Self.tokenizer(for: bundle.vocabulary) }
        results.withLock { $0.tokenizer = tokenizer }
        return
      }
      let start = ContinuousClock.now
      let session = Result {
        try Session(
          modelPath: towers[index], environment: environment, configuration: configuration, logger: logger)
      }
      let elapsed = start.duration(to: .now) / .seconds(1)
      results.withLock {
        $0.towers[index] = session
        $0.seconds[index] = elapsed
      }
    }
    let loads = results.withLock { $0 }
    visual = try loads.towers[0]!.get()
    textual = try loads.towers[1]!.get()
    tokenizer = try loads.tokenizer!.get()
    loadSeconds = (loads.seconds[0], loads.seconds[1])
    transform = try Self.transform(for: bundle.configuration.preprocessing, visual: visual)
    head = ZeroShotHead.resolve(bundle.configuration, metadata: visual.metadata.custom)
    textInputs = try TextInputs(textual)
    try Self.checkTowers(visual: visual, textual: textual, dimension: bundle.configuration.embeddingDimension)
  }

  private static func tokenizer(for vocabulary: CLIPModelBundle.VocabularySource) throws -> TextTokenizer {
    switch vocabulary {
    case .openCLIP(let url): .clip(try CLIPTokenizer(vocabularyFile: url))
    case .huggingFace(let url): .clip(try CLIPTokenizer(tokenizerJSON: url))
    case .huggingFaceWrapped(let url, let settings):
      .huggingFace(try HFTextTokenizer(tokenizerJSON: url, settings: settings))
    }
  }

  public var dimension: Int { bundle.configuration.embeddingDimension }

  /// The model's family, as `glimpse models list` names it (`ModelFamily`).
  public var family: ModelFamily { bundle.configuration.family }

  /// The fast path's floor for JPEG DCT scaling: twice the model's input side, so that the
  /// final bicubic resize still shrinks at least 2× and does the antialiasing. On a 12 MP
  /// photo this decodes at 1/4 size (moving the input tensor by 0.22 of an 8-bit level on
  /// average, docs/clip.md); a 640×480 photo is decoded at full size.
  public var fastDecodeShortSide: Int { 2 * min(transform.height, transform.width) }

  private static func transform(for preprocessing: CLIPPreprocessing, visual: Session) throws
    -> ImageTransform
  {
    guard let input = visual.inputs.first, input.shape.count == 4 else {
      throw CLIPError.unexpectedModel("the visual tower's input is not an NCHW image")
    }
    return preprocessing.transform
  }

  private static func checkTowers(visual: Session, textual: Session, dimension: Int) throws {
    for (name, session) in [("visual", visual), ("textual", textual)] {
      let width = session.outputs.first?.shape.last ?? -1
      guard width == dimension || width < 0 else {
        throw CLIPError.unexpectedModel(
          "the \(name) tower gives \(width)-dim embeddings but config.json says \(dimension)")
      }
    }
  }

  // MARK: Images

  /// The visual tower's input for `images`: resized, cropped, normalized, packed as NCHW in
  /// the model's element type (float16 models get half floats straight from the packing).
  public func imageInput(_ images: [RGBImage]) throws -> Tensor {
    guard !images.isEmpty else { throw CLIPError.invalidRequest("no images to embed") }
    let elementType = visual.inputs[0].elementType
    let tensor = try Tensor(
      zeros: elementType, shape: [images.count, 3, transform.height, transform.width])
    let perImage = transform.elementCount
    let transform = self.transform
    // Images are independent: prepare them on all cores.
    DispatchQueue.concurrentPerform(iterations: images.count) { index in
      let prepared = transform.resizedAndCropped(images[index])
      if elementType == .float16 {
        tensor.withMutableElements(as: Float16.self) {
          transform.pack(prepared, into: $0.baseAddress! + index * perImage)
        }
      } else {
        tensor.withMutableElements(as: Float.self) {
          transform.pack(prepared, into: $0.baseAddress! + index * perImage)
        }
      }
    }
    return tensor
  }

  /// One image's visual input, [1, 3, H, W]: resized, cropped, normalized and packed. A
  /// server prepares each image where it arrives, in parallel and while the model runs
  /// other batches, so that a batch run only copies (`embed(preparedImages:)`).
  public func preparedImage(_ image: RGBImage) throws -> Tensor {
    try imageInput([image])
  }

  /// L2-normalized embeddings of prepared images (`preparedImage(_:)`), in one model run.
  public func embed(preparedImages: [Tensor]) throws -> [[Float]] {
    guard let first = preparedImages.first else {
      throw CLIPError.invalidRequest("no images to embed")
    }
    if preparedImages.count == 1 { return try embed(imageInput: first) }
    guard preparedImages.allSatisfy({ $0.shape == first.shape && $0.elementType == first.elementType })
    else { throw CLIPError.invalidRequest("prepared images of different shapes or types") }
    let batch = try Tensor(zeros: first.elementType, shape: [preparedImages.count] + first.shape.dropFirst())
    let bytesPerImage = first.buffer.byteCount
    for (index, image) in preparedImages.enumerated() {
      batch.buffer.pointer.advanced(by: index * bytesPerImage)
        .copyMemory(from: image.buffer.pointer, byteCount: bytesPerImage)
    }
    return try embed(imageInput: batch)
  }

  /// L2-normalized embeddings of already decoded images, one per image.
  public func embedImages(_ images: [RGBImage]) throws -> [[Float]] {
    try embed(input: imageInput(images), session: visual)
  }

  /// Runs a prepared visual input (e.g. a batch assembled by the batcher).
  public func embed(imageInput input: Tensor) throws -> [[Float]] {
    try embed(input: input, session: visual)
  }

  // MARK: Texts

  /// Longest text accepted, in characters. Only the first 75 tokens reach the model, so a
  /// longer text costs cleaning time and memory for nothing; it is refused, not truncated.
  /// A server may set a lower limit (`--max-text-length`), checked by the same rule.
  public static let maxTextLength = 20_000

  /// The one text-length rule: refuses (`invalidRequest`, HTTP 400) the first text over
  /// `limit` characters.
  public static func checkLength(_ texts: [String], limit: Int = maxTextLength) throws {
    if let long = texts.first(where: { $0.count > limit }) {
      throw CLIPError.invalidRequest("a text of \(long.count) characters is over the limit of \(limit)")
    }
  }

  /// The text tower's input: token ids, `[count, context]` int64.
  public func textInput(_ texts: [String]) throws -> Tensor {
    guard !texts.isEmpty else { throw CLIPError.invalidRequest("no texts to embed") }
    try Self.checkLength(texts)
    let fixedLength = fixedContextLength
    let context = contextLength
    let tokens = try tokenizer.tokenize(texts, contextLength: context)
    // Only CLIP's zero-padded rows under its causal mask may be cut short (below); other
    // towers see their padding, as open_clip gives it.
    guard fixedLength == nil, case .clip = tokenizer else {
      return try Tensor(int64: tokens, shape: [texts.count, context])
    }
    // A tower with a free sequence length gets the batch padded to its longest text only:
    // CLIP's causal mask means no position looks past its end token, so the embeddings are
    // the same as at 77 tokens, for a fraction of the work on short texts.
    let length = Self.longestTokenRow(tokens, rows: texts.count, context: context)
    let trimmed = (0..<texts.count).flatMap { row in tokens[row * context..<row * context + length] }
    return try Tensor(int64: Array(trimmed), shape: [texts.count, length])
  }

  /// The token row length the text tower takes: its input's fixed length, else the bundle's.
  public var contextLength: Int { fixedContextLength ?? bundle.configuration.contextLength }

  /// The text tower's sequence length when its graph fixes one.
  private var fixedContextLength: Int? { textual.inputs[0].shape.last.flatMap { $0 > 0 ? $0 : nil } }

  /// How many tokens of `text` the text tower is fed: its ids with start and end, cut at the
  /// context length as `textInput` truncates; padding is not counted.
  public func fedTokenCount(_ text: String) throws -> Int {
    min(try tokenizer.tokenCount(text), contextLength)
  }

  /// The length of the longest row up to its last non-zero id (ids are zero-padded).
  static func longestTokenRow(_ tokens: [Int64], rows: Int, context: Int) -> Int {
    var longest = 1
    for row in 0..<rows {
      let start = row * context
      if let last = tokens[start..<start + context].lastIndex(where: { $0 != 0 }) {
        longest = max(longest, last - start + 1)
      }
    }
    return longest
  }

  public func embedTexts(_ texts: [String]) throws -> [[Float]] {
    try embed(feeds: textInputs.feeds(ids: textInput(texts), padID: tokenizer.padID), session: textual)
  }

  // MARK: Zero-shot

  /// Zero-shot classification with the model's own head (`ZeroShotHead`).
  public func classify(_ image: RGBImage, labels: [String]) throws -> [(label: String, probability: Float)] {
    guard !labels.isEmpty else { throw CLIPError.invalidRequest("no labels to classify against") }
    let imageEmbedding = try embedImages([image])[0]
    let probabilities = zeroShotProbabilities(image: imageEmbedding, labels: try embedTexts(labels))
    return Array(zip(labels, probabilities))
  }

  /// Zero-shot probabilities from embeddings already computed (the server gets them from
  /// its batchers), by the model's head: CLIP's softmax or SigLIP's sigmoid.
  public func zeroShotProbabilities(image: [Float], labels: [[Float]]) -> [Float] {
    head.probabilities(labels.map { dot($0, image) })
  }

  private func embed(input: Tensor, session: Session) throws -> [[Float]] {
    try embed(feeds: [session.inputs[0].name: input], session: session)
  }

  private func embed(feeds: [String: Tensor], session: Session) throws -> [[Float]] {
    let outputs = try session.run(feeds)
    guard let output = outputs[session.outputs[0].name], output.shape.count == 2 else {
      throw CLIPError.unexpectedModel("the tower's output is not [batch, dim]")
    }
    let values = output.floatValues()
    let width = output.shape[1]
    return (0..<output.shape[0]).map { row in
      normalized(Array(values[row * width..<(row + 1) * width]))
    }
  }
}

/// Results of the loads `CLIPModel.init` runs side by side.
private struct ConcurrentLoads {
  var towers: [Result<Session, any Error>?] = [nil, nil]
  var seconds: [Double] = [0, 0]
  var tokenizer: Result<TextTokenizer, any Error>?
}

/// The vector scaled to unit length (unchanged if it is all zeros).
public func normalized(_ vector: [Float]) -> [Float] {
  let norm = dot(vector, vector).squareRoot()
  return norm > 0 ? vector.map { $0 / norm } : vector
}

public func dot(_ a: [Float], _ b: [Float]) -> Float {
  var sum: Float = 0
  for index in 0..<min(a.count, b.count) { sum += a[index] * b[index] }
  return sum
}
