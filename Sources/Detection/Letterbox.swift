import Imaging

/// Ultralytics' `LetterBox(new_shape, auto=False, scaleup=True, center=True)` as the predictor
/// applies it to a fixed-size export: scale to fit, keep the aspect ratio, pad with grey 114.
///
/// Python's `round` is round-half-to-even, hence `.toNearestOrEven` throughout; the ±0.1 on the
/// padding puts the odd pixel at the bottom and right.
public struct Letterbox: Sendable, Equatable {
  public let sourceWidth: Int
  public let sourceHeight: Int
  public let targetWidth: Int
  public let targetHeight: Int
  /// Size of the scaled image inside the padding (`new_unpad`).
  public let resizedWidth: Int
  public let resizedHeight: Int
  public let top: Int
  public let left: Int

  public static let paddingValue: UInt8 = 114

  public init(sourceWidth: Int, sourceHeight: Int, targetWidth: Int, targetHeight: Int) {
    self.sourceWidth = sourceWidth
    self.sourceHeight = sourceHeight
    self.targetWidth = targetWidth
    self.targetHeight = targetHeight
    let ratio = min(
      Double(targetHeight) / Double(sourceHeight), Double(targetWidth) / Double(sourceWidth))
    resizedWidth = max(Int((Double(sourceWidth) * ratio).rounded(.toNearestOrEven)), 1)
    resizedHeight = max(Int((Double(sourceHeight) * ratio).rounded(.toNearestOrEven)), 1)
    top = Int((Double(targetHeight - resizedHeight) / 2 - 0.1).rounded(.toNearestOrEven))
    left = Int((Double(targetWidth - resizedWidth) / 2 - 0.1).rounded(.toNearestOrEven))
  }

  /// The letterboxed image: cv2 bilinear resize, then the constant border.
  public func apply(to image: RGBImage) -> RGBImage {
    precondition(image.width == sourceWidth && image.height == sourceHeight)
    let resized = LinearResize.resize(image, width: resizedWidth, height: resizedHeight)
    var pixels = [UInt8](repeating: Self.paddingValue, count: targetWidth * targetHeight * 3)
    let rowBytes = resizedWidth * 3
    resized.pixels.withUnsafeBufferPointer { source in
      pixels.withUnsafeMutableBufferPointer { target in
        for row in 0..<resizedHeight {
          let to = ((row + top) * targetWidth + left) * 3
          target.baseAddress!.advanced(by: to).update(
            from: source.baseAddress!.advanced(by: row * rowBytes), count: rowBytes)
        }
      }
    }
    return RGBImage(width: targetWidth, height: targetHeight, pixels: pixels)
  }

  /// Ultralytics' `ops.scale_boxes` + `clip_boxes`: from model-input pixels back to the source
  /// image, in float32 like the torch tensors. It recomputes gain and padding per axis from the
  /// rounded size, as Ultralytics does (`gain_x = new_w / w0`, not the letterbox ratio).
  public func sourceBox(_ box: BoundingBox) -> BoundingBox {
    let gainX = Float(Double(resizedWidth) / Double(sourceWidth))
    let gainY = Float(Double(resizedHeight) / Double(sourceHeight))
    let padX = Float(left)
    let padY = Float(top)
    let width = Float(sourceWidth)
    let height = Float(sourceHeight)
    func clip(_ value: Float, _ limit: Float) -> Float { min(max(value, 0), limit) }
    return BoundingBox(
      x1: clip((box.x1 - padX) / gainX, width), y1: clip((box.y1 - padY) / gainY, height),
      x2: clip((box.x2 - padX) / gainX, width), y2: clip((box.y2 - padY) / gainY, height))
  }
}

/// An axis-aligned box, corners in pixels (x right, y down).
public struct BoundingBox: Sendable, Equatable, Codable {
  public var x1: Float
  public var y1: Float
  public var x2: Float
  public var y2: Float

  public init(x1: Float, y1: Float, x2: Float, y2: Float) {
    self.x1 = x1
    self.y1 = y1
    self.x2 = x2
    self.y2 = y2
  }

  public var width: Float { x2 - x1 }
  public var height: Float { y2 - y1 }
  public var area: Float { max(width, 0) * max(height, 0) }

  /// Intersection over union (0 when the boxes do not overlap or both are empty).
  public func intersectionOverUnion(_ other: BoundingBox) -> Float {
    let width = max(0, min(x2, other.x2) - max(x1, other.x1))
    let height = max(0, min(y2, other.y2) - max(y1, other.y1))
    let intersection = width * height
    let union = area + other.area - intersection
    return union > 0 ? intersection / union : 0
  }
}
