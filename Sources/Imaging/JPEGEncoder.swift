import CImageCodecs
import Foundation

/// Encodes an `RGBImage` as a baseline JPEG through TurboJPEG (4:2:0 chroma, like most cameras
/// and Pillow's default), for annotated detection images and benchmark fixtures.
public enum JPEGEncoder {
  /// JPEG bytes of `image` at `quality` (1…100).
  public static func encode(_ image: RGBImage, quality: Int = 90) throws -> Data {
    guard (1...100).contains(quality) else {
      throw ImagingError.corrupt("JPEG quality must lie in 1…100, got \(quality)")
    }
    guard image.width > 0, image.height > 0 else {
      throw ImagingError.corrupt("cannot encode an image with no pixels (\(image.width)×\(image.height))")
    }
    guard let handle = tjInitCompress() else { throw ImagingError.corrupt("TurboJPEG failed to start") }
    defer { tjDestroy(handle) }
    // TurboJPEG allocates (and grows) the output buffer itself; it must be freed with tjFree.
    var output: UnsafeMutablePointer<UInt8>? = nil
    var size: UInt = 0
    defer { if let output { tjFree(output) } }
    let status = image.pixels.withUnsafeBufferPointer { pixels in
      tjCompress2(
        handle, pixels.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
        &output, &size, Int32(TJSAMP_420.rawValue), Int32(quality), Int32(TJFLAG_ACCURATEDCT))
    }
    guard status == 0, let output else {
      let message = tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
      throw ImagingError.corrupt("JPEG encoding failed: \(message)")
    }
    return Data(bytes: output, count: Int(size))
  }

  /// Encodes and writes to `url`, atomically (a reader never sees half a file).
  public static func write(_ image: RGBImage, to url: URL, quality: Int = 90) throws {
    try encode(image, quality: quality).write(to: url, options: .atomic)
  }
}
