import Imaging

/// `cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)` on 8-bit, 3-channel images, bit
/// for bit as OpenCV computes it, which is what Ultralytics' LetterBox calls. Checked against
/// opencv-python 5.0.0.93 and 4.14.0 on 300 random size pairs (up, down, 1 px, exact 2×).
///
/// OpenCV samples at half-pixel centres, `src = (dst + 0.5) · scale − 0.5` in float32, and
/// works in fixed point: 11-bit weights (`INTER_RESIZE_COEF_BITS`), a horizontal pass into
/// int32 rows, then a vertical pass whose vectorized kernel (used for every pixel) scales the
/// two rows down by 4 bits, keeps the high 16 bits of each weighted row and rounds the sum by
/// 2 bits. An exact 2× downscale in both directions is `INTER_AREA` instead: the rounded mean
/// of each 2×2 block.
public enum LinearResize {
  static let coefficientScale: Float = 2048

  public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
    precondition(width > 0 && height > 0 && image.width > 0 && image.height > 0)
    if width == image.width && height == image.height { return image }
    if image.width == 2 * width && image.height == 2 * height {
      return halve(image)
    }
    let columns = Taps(sourceSize: image.width, targetSize: width, clampAtEdges: true)
    let rows = Taps(sourceSize: image.height, targetSize: height, clampAtEdges: false)
    var output = [UInt8](repeating: 0, count: width * height * 3)
    var cache = HorizontalRows(image: image, columns: columns)
    output.withUnsafeMutableBufferPointer { target in
      for y in 0..<height {
        let first = min(max(rows.offsets[y], 0), image.height - 1)
        let second = min(max(rows.offsets[y] + 1, 0), image.height - 1)
        let weight0 = rows.weights[2 * y]
        let weight1 = rows.weights[2 * y + 1]
        cache.withRows(first, second) { row0, row1 in
          let base = y * width * 3
          for index in 0..<width * 3 {
            // OpenCV's VResizeLinearVec_32s8u: v_mul_hi on (row >> 4), then a rounding shift by 2.
            let upper = ((row0[index] >> 4) * weight0) >> 16
            let lower = ((row1[index] >> 4) * weight1) >> 16
            target[base + index] = UInt8(clamping: (upper + lower + 2) >> 2)
          }
        }
      }
    }
    return RGBImage(width: width, height: height, pixels: output)
  }

  /// OpenCV's `resizeAreaFast` for a scale of exactly 2: `(a + b + c + d + 2) >> 2`.
  static func halve(_ image: RGBImage) -> RGBImage {
    let width = image.width / 2
    let height = image.height / 2
    var output = [UInt8](repeating: 0, count: width * height * 3)
    image.pixels.withUnsafeBufferPointer { source in
      output.withUnsafeMutableBufferPointer { target in
        let stride = image.width * 3
        for y in 0..<height {
          let top = 2 * y * stride
          for x in 0..<width {
            for channel in 0..<3 {
              let left = top + 6 * x + channel
              let sum =
                Int(source[left]) + Int(source[left + 3]) + Int(source[left + stride])
                + Int(source[left + stride + 3])
              target[(y * width + x) * 3 + channel] = UInt8((sum + 2) >> 2)
            }
          }
        }
      }
    }
    return RGBImage(width: width, height: height, pixels: output)
  }

  /// Source index and the two fixed-point weights of each output position along one axis.
  struct Taps {
    var offsets: [Int]
    var weights: [Int]

    /// `clampAtEdges`: the horizontal table moves taps that fall outside the image onto the
    /// edge pixel with weight (2048, 0); the vertical table keeps the raw weights and only
    /// clamps the rows it reads, as OpenCV's `resize` does.
    init(sourceSize: Int, targetSize: Int, clampAtEdges: Bool) {
      let scale = 1.0 / (Double(targetSize) / Double(sourceSize))
      offsets = []
      weights = []
      offsets.reserveCapacity(targetSize)
      weights.reserveCapacity(2 * targetSize)
      for target in 0..<targetSize {
        var position = Float((Double(target) + 0.5) * scale - 0.5)
        var index = Int(position.rounded(.down))
        position -= Float(index)
        if clampAtEdges && index < 0 {
          (position, index) = (0, 0)
        }
        if clampAtEdges && index >= sourceSize - 1 {
          (position, index) = (0, sourceSize - 1)
        }
        offsets.append(index)
        // saturate_cast<short>(float) rounds half to even (lrint).
        weights.append(Int(((1 - position) * coefficientScale).rounded(.toNearestOrEven)))
        weights.append(Int((position * coefficientScale).rounded(.toNearestOrEven)))
      }
    }
  }

  /// Horizontally resampled source rows (`S[x]·α0 + S[x+1]·α1`, int), computed once each:
  /// output rows read source rows in increasing order, so two slots suffice.
  struct HorizontalRows {
    let image: RGBImage
    let columns: Taps
    var slots: [[Int]]
    var slotRows: [Int] = [-1, -1]
    var nextSlot = 0

    init(image: RGBImage, columns: Taps) {
      self.image = image
      self.columns = columns
      slots = Array(repeating: [Int](repeating: 0, count: columns.offsets.count * 3), count: 2)
    }

    mutating func withRows(_ first: Int, _ second: Int, _ body: ([Int], [Int]) -> Void) {
      let a = slot(for: first)
      let b = slot(for: second, keeping: a)
      body(slots[a], slots[b])
    }

    private mutating func slot(for row: Int, keeping kept: Int? = nil) -> Int {
      if let found = slotRows.firstIndex(of: row) { return found }
      var target = nextSlot
      if target == kept { target = 1 - target }
      nextSlot = 1 - target
      slotRows[target] = row
      fill(&slots[target], row: row)
      return target
    }

    private func fill(_ output: inout [Int], row: Int) {
      let width = image.width
      image.pixels.withUnsafeBufferPointer { pixels in
        let base = row * width * 3
        for x in 0..<columns.offsets.count {
          let left = columns.offsets[x]
          let right = min(left + 1, width - 1)
          let weight0 = columns.weights[2 * x]
          let weight1 = columns.weights[2 * x + 1]
          for channel in 0..<3 {
            output[3 * x + channel] =
              Int(pixels[base + 3 * left + channel]) * weight0 + Int(pixels[base + 3 * right + channel])
              * weight1
          }
        }
      }
    }
  }
}
