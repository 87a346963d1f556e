import CLIP
import Foundation
import Hardware
import Imaging
import ONNXRuntime

/// The GPU paths the server runs with (`AcceleratorPlan`, docs/gpu.md): nvJPEG decoding, the
/// ONNX preprocessing graph, batches padded to CUDA graph buckets. Empty: the CPU paths.
public struct ModelAcceleration: Sendable {
  public var graphPreprocessor: GraphPreprocessor?
  public var jpegDecoder: NVJPEG?
  /// Whether model runs are CUDA graphs, so that image batches are padded to buckets.
  public var cudaGraphs: Bool

  public init(
    graphPreprocessor: GraphPreprocessor? = nil, jpegDecoder: NVJPEG? = nil, cudaGraphs: Bool = false
  ) {
    self.graphPreprocessor = graphPreprocessor
    self.jpegDecoder = jpegDecoder
    self.cudaGraphs = cudaGraphs
  }

  /// Decodes with nvJPEG where the file suits it (`JPEGHeader.suitsGPUDecoding`), else, and
  /// whenever nvJPEG fails on a file, with the CPU `decoder`, whose errors clients see. nvJPEG
  /// decodes at full size (no DCT scaling), so the full size is what is checked against the
  /// pixel limit and reserved (`decoder.options.reserve`) before it runs.
  func decode(_ data: Data, with decoder: ImageDecoder) throws -> RGBImage {
    guard let jpegDecoder else { return try decoder.decode(data) }
    return try data.withUnsafeBytes { bytes in
      guard let header = JPEGHeader(bytes), header.suitsGPUDecoding else { return try decoder.decode(bytes) }
      let size = try ImageDecoder(options: .init(maxPixels: decoder.options.maxPixels)).decodedSize(data)
      try decoder.options.reserve?(size.width * size.height)
      guard let decoded = try? jpegDecoder.decodeRGB(bytes) else {
        var fallback = decoder
        fallback.options.reserve = nil  // reserved above, at the larger full size
        return try fallback.decode(bytes)
      }
      let image = RGBImage(width: decoded.width, height: decoded.height, pixels: decoded.pixels)
      return EXIFOrientation(rawValue: header.orientation)?.apply(to: image) ?? image
    }
  }

  /// One image's visual input: from the preprocessing graph when there is one.
  func prepare(_ image: RGBImage, for clip: CLIPModel) throws -> Tensor {
    try graphPreprocessor?.prepare(image) ?? clip.preparedImage(image)
  }
}
