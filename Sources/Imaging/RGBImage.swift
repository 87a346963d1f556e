/// An 8-bit RGB image, rows top to bottom, pixels interleaved (R, G, B).
/// The one pixel type every decoder produces and every preprocessing step reads.
public struct RGBImage: Sendable, Equatable {
  public let width: Int
  public let height: Int
  public var pixels: [UInt8]

  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(pixels.count == width * height * 3, "pixel buffer does not match the size")
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  /// A black image of the given size.
  public init(width: Int, height: Int) {
    self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
  }

  public var pixelCount: Int { width * height }

  /// A copy of the rectangle at (`x`, `y`) of `cropWidth` × `cropHeight`, which must lie inside.
  public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> RGBImage {
    precondition(x >= 0 && y >= 0 && x + cropWidth <= width && y + cropHeight <= height)
    var result = [UInt8](repeating: 0, count: cropWidth * cropHeight * 3)
    pixels.withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { target in
        for row in 0..<cropHeight {
          let from = ((y + row) * width + x) * 3
          let to = row * cropWidth * 3
          target.baseAddress!.advanced(by: to).update(
            from: source.baseAddress!.advanced(by: from), count: cropWidth * 3)
        }
      }
    }
    return RGBImage(width: cropWidth, height: cropHeight, pixels: result)
  }
}
