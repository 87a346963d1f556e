/// When a track's catalog match is computed again: the crop of an object seen once is enough
/// until it looks different, because it came closer or went away (its box changed size) or
/// enough frames went by (pose and light change).
public struct RematchPolicy: Sendable, Equatable {
  /// Search again when the box's size (the square root of its area, so width and height
  /// changes count alike) has grown or shrunk by this factor since the last search: at 1.5, a
  /// box 1.5× as wide and high (2.25× the area), or 1/1.5 of them.
  public var sizeFactor: Double
  /// Search again after this many frames of the tracker.
  public var frames: Int

  public init(sizeFactor: Double = 1.5, frames: Int = 30) {
    self.sizeFactor = sizeFactor
    self.frames = frames
  }

  /// Whether a track whose last search was at `searchedFrame` with a box of `searchedArea`
  /// needs another at `frame` with a box of `area`.
  public func isDue(searchedFrame: Int, searchedArea: Double, frame: Int, area: Double) -> Bool {
    if frame - searchedFrame >= frames { return true }
    guard searchedArea > 0, area > 0 else { return area != searchedArea }
    let ratio = (area / searchedArea).squareRoot()
    return ratio >= sizeFactor || ratio <= 1 / sizeFactor
  }
}
