import CImageCodecs
import Foundation

/// WebP (lossy and lossless) through libwebp; alpha is dropped as Pillow's convert("RGB") does.
struct WebPDecoder {
  let options: ImageDecoder.Options

  func decode(_ bytes: UnsafeRawBufferPointer) throws -> (image: RGBImage, orientation: Int) {
    let source = bytes.bindMemory(to: UInt8.self)
    let (width, height) = try declaredSize(bytes)
    try options.reserve?(width * height)
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    let stride = Int32(width * 3)
    let result = pixels.withUnsafeMutableBufferPointer { target in
      WebPDecodeRGBInto(source.baseAddress, bytes.count, target.baseAddress, target.count, stride)
    }
    guard result != nil else { throw ImagingError.corrupt("corrupt or truncated WebP data") }
    return (RGBImage(width: width, height: height, pixels: pixels), orientation(bytes))
  }

  /// Width and height from the header, within the pixel limit.
  func declaredSize(_ bytes: UnsafeRawBufferPointer) throws -> (width: Int, height: Int) {
    var width: Int32 = 0
    var height: Int32 = 0
    guard WebPGetInfo(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &width, &height) != 0 else {
      throw ImagingError.corrupt("invalid WebP header")
    }
    try ImageDecoder(options: options).checkSize(width: Int(width), height: Int(height))
    return (Int(width), Int(height))
  }

  /// The orientation in the RIFF container's EXIF chunk, if any.
  private func orientation(_ bytes: UnsafeRawBufferPointer) -> Int {
    var offset = 12
    while offset + 8 <= bytes.count {
      let tag = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 4]), as: UTF8.self)
      let size = (0..<4).reduce(0) { $0 | Int(bytes[offset + 4 + $1]) << (8 * $1) }
      let start = offset + 8
      let end = min(start + size, bytes.count)
      if tag == "EXIF", start < end {
        var payload = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        if payload.starts(with: Array("Exif\0\0".utf8)) {
          payload = UnsafeRawBufferPointer(rebasing: payload[6...])
        }
        return EXIFOrientation.read(tiff: payload)
      }
      offset = start + size + (size & 1)  // chunks are padded to an even size
    }
    return 1
  }
}
