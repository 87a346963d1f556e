/// The EXIF orientation tag (0x0112) and the transform that makes the image upright, as
/// Pillow's `ImageOps.exif_transpose` applies it.
public enum EXIFOrientation: Int, Sendable {
  case up = 1
  case mirrored = 2  // Pillow: FLIP_LEFT_RIGHT
  case upsideDown = 3  // ROTATE_180
  case upsideDownMirrored = 4  // FLIP_TOP_BOTTOM
  case leftMirrored = 5  // TRANSPOSE
  case left = 6  // ROTATE_270 (90° clockwise)
  case rightMirrored = 7  // TRANSVERSE
  case right = 8  // ROTATE_90 (90° counter-clockwise)

  /// Reads the orientation from TIFF-structured EXIF data; 1 when absent or unreadable.
  public static func read(tiff: UnsafeRawBufferPointer) -> Int {
    guard tiff.count >= 8 else { return 1 }
    let littleEndian: Bool
    switch (tiff[0], tiff[1]) {
    case (0x49, 0x49): littleEndian = true
    case (0x4D, 0x4D): littleEndian = false
    default: return 1
    }
    func integer(_ offset: Int, _ size: Int) -> Int? {
      guard offset >= 0, offset + size <= tiff.count else { return nil }
      return (0..<size).reduce(0) { value, index in
        let byte = Int(tiff[offset + (littleEndian ? index : size - 1 - index)])
        return value | byte << (8 * index)
      }
    }
    guard integer(2, 2) == 42, let directory = integer(4, 4), let entries = integer(directory, 2)
    else { return 1 }
    for entry in 0..<entries {
      let start = directory + 2 + entry * 12
      guard let tag = integer(start, 2) else { return 1 }
      if tag == 0x0112, let value = integer(start + 8, 2), (1...8).contains(value) {
        return value
      }
    }
    return 1
  }

  /// The upright image.
  public func apply(to image: RGBImage) -> RGBImage {
    let width = image.width
    let height = image.height
    // Each case maps an output pixel (x, y) to the source pixel it copies.
    switch self {
    case .up: return image
    case .mirrored: return remap(image, width, height) { x, y in (width - 1 - x, y) }
    case .upsideDown: return remap(image, width, height) { x, y in (width - 1 - x, height - 1 - y) }
    case .upsideDownMirrored: return remap(image, width, height) { x, y in (x, height - 1 - y) }
    case .leftMirrored: return remap(image, height, width) { x, y in (y, x) }
    case .left: return remap(image, height, width) { x, y in (y, height - 1 - x) }
    case .rightMirrored: return remap(image, height, width) { x, y in (width - 1 - y, height - 1 - x) }
    case .right: return remap(image, height, width) { x, y in (width - 1 - y, x) }
    }
  }

  private func remap(
    _ image: RGBImage, _ outputWidth: Int, _ outputHeight: Int, source: (Int, Int) -> (Int, Int)
  ) -> RGBImage {
    var pixels = [UInt8](repeating: 0, count: outputWidth * outputHeight * 3)
    image.pixels.withUnsafeBufferPointer { input in
      pixels.withUnsafeMutableBufferPointer { output in
        for y in 0..<outputHeight {
          for x in 0..<outputWidth {
            let (sourceX, sourceY) = source(x, y)
            let from = (sourceY * image.width + sourceX) * 3
            let to = (y * outputWidth + x) * 3
            output[to] = input[from]
            output[to + 1] = input[from + 1]
            output[to + 2] = input[from + 2]
          }
        }
      }
    }
    return RGBImage(width: outputWidth, height: outputHeight, pixels: pixels)
  }
}
