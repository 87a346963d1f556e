import CImageCodecs
import Foundation

/// PNG through libpng (via the C shim that turns libpng's longjmp errors into messages).
struct PNGDecoder {
  let options: ImageDecoder.Options

  func decode(_ bytes: UnsafeRawBufferPointer) throws -> (image: RGBImage, orientation: Int) {
    let source = bytes.bindMemory(to: UInt8.self)
    _ = try declaredSize(source)
    var width: UInt32 = 0
    var height: UInt32 = 0
    var bitDepth: Int32 = 0
    var colorType: Int32 = 0
    var error = [CChar](repeating: 0, count: 256)
    guard
      glimpse_png_header(
        source.baseAddress, bytes.count, &width, &height, &bitDepth, &colorType, &error, error.count) == 0
    else { throw ImagingError.corrupt("invalid PNG: \(message(error))") }
    try ImageDecoder(options: options).checkSize(width: Int(width), height: Int(height))
    try options.reserve?(Int(width) * Int(height))
    var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
    let status = pixels.withUnsafeMutableBufferPointer { target in
      glimpse_png_decode_rgb(
        source.baseAddress, bytes.count, target.baseAddress, width, height, &error, error.count)
    }
    guard status == 0 else { throw ImagingError.corrupt("corrupt or truncated PNG: \(message(error))") }
    let image = RGBImage(width: Int(width), height: Int(height), pixels: pixels)
    return (image, orientation(source))
  }

  /// Reads width and height straight from the IHDR chunk (bytes 16–23) so a bomb is refused
  /// even when the rest of the file is missing.
  func declaredSize(_ source: UnsafeBufferPointer<UInt8>) throws -> (width: Int, height: Int) {
    guard source.count >= 24 else { throw ImagingError.corrupt("truncated PNG header") }
    func bigEndian(_ offset: Int) -> Int {
      (0..<4).reduce(0) { $0 << 8 | Int(source[offset + $1]) }
    }
    let size = (width: bigEndian(16), height: bigEndian(20))
    try ImageDecoder(options: options).checkSize(width: size.width, height: size.height)
    return size
  }

  private func orientation(_ source: UnsafeBufferPointer<UInt8>) -> Int {
    var exif: UnsafeMutablePointer<UInt8>?
    let length = glimpse_png_exif(source.baseAddress, source.count, &exif)
    guard let exif, length > 0 else { return 1 }
    defer { free(exif) }
    return EXIFOrientation.read(tiff: UnsafeRawBufferPointer(start: exif, count: length))
  }

  private func message(_ error: [CChar]) -> String {
    let bytes = error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return bytes.isEmpty ? "unknown error" : String(decoding: bytes, as: UTF8.self)
  }
}
