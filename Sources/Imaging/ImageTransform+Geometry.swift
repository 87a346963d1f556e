/// Where the model's frame lies along one axis of the resized image: the rows or columns
/// added before and after it, negative where they are cropped away.
public struct FramePads: Equatable, Sendable {
  public var before: Int
  public var after: Int

  public init(before: Int, after: Int) {
    self.before = before
    self.after = after
  }

  /// torchvision's `center_crop` (and open_clip's `center_crop_or_pad`): a side longer than
  /// the frame is cropped from offset `int(round((size - frame) / 2))` (round half to even),
  /// a shorter one padded with `(frame - size) // 2` before it.
  public static func centred(size: Int, frame: Int) -> FramePads {
    if size >= frame {
      let offset = Int((Double(size - frame) / 2).rounded(.toNearestOrEven))
      return FramePads(before: -offset, after: -(size - frame - offset))
    }
    let before = (frame - size) / 2
    return FramePads(before: before, after: frame - size - before)
  }
}

/// What the transform does to an image of a given size: the resize, then the pads and crops
/// that frame it at the model's size. The exact CPU path and the ONNX graph path
/// (`GraphPreprocessor`) both follow it, so that they differ only in resampling arithmetic.
public struct ResizeGeometry: Equatable, Sendable {
  public var width: Int
  public var height: Int
  public var filter: Resample.Filter
  public var horizontal: FramePads
  public var vertical: FramePads
  /// The level the pads are filled with.
  public var fill: UInt8
}

extension ImageTransform {
  /// The resampling filter the transform uses: the configured one, except open_clip's
  /// non-square `shortest` resize, which is always bicubic (`nonSquareShortestFilter`).
  public var resizeFilter: Resample.Filter {
    resizeMode == .shortest && width != height ? nonSquareShortestFilter : filter
  }

  /// The resize and framing of an image of `imageWidth` × `imageHeight` pixels.
  public func geometry(width imageWidth: Int, height imageHeight: Int) -> ResizeGeometry {
    let (newWidth, newHeight) =
      switch resizeMode {
      case .squash: (width, height)
      case .shortest where width == height:
        Self.shortestSideSize(width: imageWidth, height: imageHeight, target: width)
      case .shortest: keepRatioSize(width: imageWidth, height: imageHeight, longest: false)
      case .longest: keepRatioSize(width: imageWidth, height: imageHeight, longest: true)
      }
    return ResizeGeometry(
      width: newWidth, height: newHeight, filter: resizeFilter,
      horizontal: .centred(size: newWidth, frame: width), vertical: .centred(size: newHeight, frame: height),
      fill: resizeMode == .longest ? fillColor : 0)
  }
}

extension RGBImage {
  /// The image with `horizontal` and `vertical` pads applied: rows and columns added in
  /// `fill`, or cropped away where a pad is negative.
  public func framed(horizontal: FramePads, vertical: FramePads, fill: UInt8) -> RGBImage {
    let newWidth = width + horizontal.before + horizontal.after
    let newHeight = height + vertical.before + vertical.after
    if horizontal.before <= 0 && horizontal.after <= 0 && vertical.before <= 0 && vertical.after <= 0 {
      return cropped(x: -horizontal.before, y: -vertical.before, width: newWidth, height: newHeight)
    }
    var framed = RGBImage(
      width: newWidth, height: newHeight, pixels: [UInt8](repeating: fill, count: newWidth * newHeight * 3))
    // The columns of the source that land inside the frame, and where they land.
    let firstColumn = max(0, -horizontal.before)
    let lastColumn = min(width, newWidth - horizontal.before)
    guard firstColumn < lastColumn else { return framed }
    for row in 0..<newHeight {
      let sourceRow = row - vertical.before
      guard sourceRow >= 0 && sourceRow < height else { continue }
      let from = (sourceRow * width + firstColumn) * 3
      let to = (row * newWidth + firstColumn + horizontal.before) * 3
      let count = (lastColumn - firstColumn) * 3
      framed.pixels.replaceSubrange(to..<to + count, with: pixels[from..<from + count])
    }
    return framed
  }
}
