extension RGBImage {
  /// Writes the image as three planes, one image's layout in an NCHW tensor: value
  /// `c * height * width + i` is `convert(byte, c)` for channel c of pixel i. The one packer of
  /// model inputs (CLIP's normalized planes, YOLO's letterboxed ones), in float32 or float16
  /// straight from the bytes; rows are split across cores when the image is large enough
  /// (`ParallelRows`), each chunk writing its own rows of every plane.
  @inlinable
  public func packPlanes<T>(
    into output: UnsafeMutablePointer<T>, _ convert: (_ byte: UInt8, _ channel: Int) -> T
  ) {
    let width = self.width
    let plane = width * height
    pixels.withUnsafeBufferPointer { pixels in
      ParallelRows.forEachChunk(rows: height, workPerRow: width * 3) { rows in
        for channel in 0..<3 {
          for index in rows.lowerBound * width..<rows.upperBound * width {
            output[channel * plane + index] = convert(pixels[index * 3 + channel], channel)
          }
        }
      }
    }
  }
}
