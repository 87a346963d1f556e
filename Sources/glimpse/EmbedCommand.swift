import ArgumentParser
import CLIP
import Foundation
import Imaging
import Logging
import ONNXRuntime
import Services

/// `glimpse embed`: CLIP embeddings of images and texts.
struct Embed: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print CLIP embeddings of images (--image) and texts (--text).")

  @Option(name: .customLong("image"), help: "An image file (JPEG, PNG, WebP). Repeatable.")
  var images: [String] = []

  @Option(name: .customLong("text"), help: "A text. Repeatable.")
  var texts: [String] = []

  @OptionGroup var model: CLIPModelOptions
  @OptionGroup var server: RemoteServerOptions

  @Flag(help: "Print one JSON object per input.")
  var json = false

  @Option(help: "Write the exact model input (float NCHW or int64 token ids) to this .npy file.")
  var dumpTensor: String?

  @Flag(help: "Decode every JPEG at full size, exactly like the Python reference (slower for big photos).")
  var exactDecode = false

  func validate() throws {
    if images.isEmpty && texts.isEmpty { throw ValidationError("give at least one --image or --text") }
    if dumpTensor != nil && !images.isEmpty && !texts.isEmpty {
      throw ValidationError("--dump-tensor takes either images or texts, not both")
    }
    try server.refuse([
      ("--dump-tensor", dumpTensor != nil), ("--exact-decode", exactDecode),
      ("--model", model.modelFolder != nil),
    ])
  }

  func run() async throws {
    let results: [EmbeddingRecord]
    if let client = try server.client() {
      results = try await runRemote(client)
    } else {
      results = try runLocal()
    }
    for record in results {
      if json {
        try printJSONLine(record)
      } else {
        let preview = record.embedding.prefix(4).map { String(format: "%.4f", $0) }.joined(separator: ", ")
        print("\(record.kind) \(record.input): dim \(record.dim) [\(preview), …]")
      }
    }
  }

  private func runLocal() throws -> [EmbeddingRecord] {
    let logger = model.logger("glimpse.embed")
    let (clip, _) = try model.load(logger: logger)
    var results: [EmbeddingRecord] = []
    if !images.isEmpty {
      let decoded = try images.map { try decodeImage(path: $0, clip: clip) }
      let input = try clip.imageInput(decoded)
      if let dumpTensor { try NumpyFile.write(input, to: URL(fileURLWithPath: dumpTensor)) }
      let embeddings = try clip.embed(imageInput: input)
      results += zip(images, embeddings).map {
        EmbeddingRecord(input: $0, kind: "image", model: clip, embedding: $1)
      }
    }
    if !texts.isEmpty {
      if let dumpTensor { try NumpyFile.write(clip.textInput(texts), to: URL(fileURLWithPath: dumpTensor)) }
      let embeddings = try clip.embedTexts(texts)
      results += zip(texts, embeddings).map {
        EmbeddingRecord(input: $0, kind: "text", model: clip, embedding: $1)
      }
    }
    return results
  }

  private func decodeImage(path: String, clip: CLIPModel) throws -> RGBImage {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CLIError("cannot read image \(path)")
    }
    do {
      return try VisualSearchService.decoder(for: clip, fullSize: exactDecode).decode(data)
    } catch {
      throw CLIError("\(path): \(error)")
    }
  }
}

/// One line of `glimpse embed --json`.
struct EmbeddingRecord: Encodable {
  var input: String
  var kind: String
  var model: String
  var dim: Int
  var embedding: [Float]

  init(input: String, kind: String, model: CLIPModel, embedding: [Float]) {
    self.init(input: input, kind: kind, model: model.bundle.name, embedding: embedding)
  }

  init(input: String, kind: String, model: String, embedding: [Float]) {
    self.input = input
    self.kind = kind
    self.model = model
    self.dim = embedding.count
    self.embedding = embedding
  }
}
