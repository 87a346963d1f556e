/// Crops around fractional boxes, as detectors report them.
extension RGBImage {
  /// The pixels of the box (`x1`, `y1`)–(`x2`, `y2`) grown by `margin` of its width and height
  /// on every side, clamped to the image. Context around an object helps an embedding model
  /// recognise it, hence the margin (10 % by default). Never empty: a degenerate box still
  /// gives at least one pixel.
  public func cropped(x1: Float, y1: Float, x2: Float, y2: Float, margin: Float = 0.1) -> RGBImage {
    let (left, right) = Self.span(x1, x2, margin: margin, limit: width)
    let (top, bottom) = Self.span(y1, y2, margin: margin, limit: height)
    return cropped(x: left, y: top, width: right - left, height: bottom - top)
  }

  /// Whole pixels covering [low − margin·size, high + margin·size], inside 0…limit, at least one.
  private static func span(_ low: Float, _ high: Float, margin: Float, limit: Int) -> (Int, Int) {
    // A model gone wrong may give NaN: crop the first pixel rather than trap on Int(NaN).
    guard low.isFinite, high.isFinite else { return (0, 1) }
    let (low, high) = (min(low, high), max(low, high))
    let grow = (high - low) * margin
    let start = Int(max(0, min(Float(limit - 1), (low - grow).rounded(.down))))
    let end = Int(max(0, min(Float(limit), (high + grow).rounded(.up))))
    return (start, max(end, start + 1))
  }
}
