import CLIP
import Catalog
import Detection
import Foundation
import GlimpseServer
import Imaging
import ONNXRuntime

/// The parsers that read untrusted bytes, one per fuzz target: the libFuzzer executable
/// (`Fuzz/`, built by `scripts/fuzz`) and the regression replay test call the same `run`, so an
/// input that once crashed a target is replayed by the normal test build.
public enum FuzzTarget: String, CaseIterable, Sendable {
  case image, exif, multipart, json, query, filter, tokenizer, numpy, hnsw, ultralytics
  case arSettings = "ar-settings"

  /// Feeds `input` to the target's parser. Errors are the expected answer to bad input and are
  /// ignored; a crash (trap, memory error, sanitizer report) is the finding.
  public func run(_ input: Data) {
    switch self {
    case .image: _ = try? Self.imageDecoder.decode(input)
    case .exif: Self.exif(input)
    case .multipart: try? RequestParsing.multipart(input)
    case .json: RequestParsing.jsonBodies(input)
    case .query: try? RequestParsing.query(input)
    case .filter: _ = try? RequestParsing.filter(input)
    case .tokenizer: Self.tokenize(input)
    case .numpy: _ = try? NumpyFile.read(data: input)
    case .hnsw: _ = try? HNSWSnapshot.readLabels(data: input, source: "fuzz input")
    case .ultralytics: Self.ultralytics(input)
    case .arSettings: try? RequestParsing.arSettings(input)
    }
  }

  /// A small pixel limit, so that the fuzzer explores the decoders rather than spending its
  /// time filling large (valid) images.
  private static let imageDecoder = ImageDecoder(options: .init(maxPixels: 4_000_000))

  /// The orientation of a TIFF-structured EXIF block, applied to a 3×2 image (every transform
  /// then swaps or mirrors unequal sides).
  private static func exif(_ input: Data) {
    let orientation = input.withUnsafeBytes { EXIFOrientation.read(tiff: $0) }
    let image = RGBImage(width: 3, height: 2, pixels: [UInt8](repeating: 7, count: 18))
    _ = EXIFOrientation(rawValue: orientation)?.apply(to: image)
  }

  /// Arbitrary UTF-8 through the CLIP tokenizer (invalid sequences become U+FFFD, as a JSON
  /// or form text would arrive).
  private static func tokenize(_ input: Data) {
    guard let clip = clipTokenizer else { return }
    _ = clip.encode(String(decoding: input, as: UTF8.self))
  }

  /// The tokenizer of the vocabulary scripts/setup downloads (`GLIMPSE_FUZZ_VOCABULARY`
  /// overrides it); nil when absent, and the target then checks nothing.
  private static let clipTokenizer: CLIPTokenizer? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let path =
      ProcessInfo.processInfo.environment["GLIMPSE_FUZZ_VOCABULARY"]
      ?? root.appendingPathComponent(".deps/bpe_simple_vocab_16e6.txt.gz").path
    return try? CLIPTokenizer(vocabularyFile: URL(fileURLWithPath: path))
  }()

  /// An export's metadata: the input as each property Ultralytics writes.
  private static func ultralytics(_ input: Data) {
    let text = String(decoding: input, as: UTF8.self)
    for key in ["names", "imgsz", "stride"] {
      _ = try? UltralyticsMetadata(properties: [key: text, "task": "detect", "end2end": "False"])
    }
  }
}
