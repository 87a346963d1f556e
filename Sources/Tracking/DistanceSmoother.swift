/// Smooths one track's distance estimates over frames: an alpha-beta filter (the steady-state
/// Kalman filter of a constant-velocity model) on distance and its rate per frame.
///
/// A per-frame estimate comes from the box height, so a few pixels of box jitter make it
/// jump, most at long range. The filter's state is (distance, metres per frame). Each frame
/// it predicts distance += rate × frames elapsed, then corrects by the residual r = measured
/// − predicted: distance += α·r, rate += β·r / frames elapsed. With α = 0.2 and β = 0.02 the
/// noise of a steady object's estimate is divided by about 2.5 (its variance by about 6.6),
/// and because the rate is estimated, a real approach is followed without a steady lag (an
/// exponential moving average would trail a walking person by metres).
public struct DistanceSmoother: Sendable, Equatable {
  public var alpha: Double
  public var beta: Double
  public private(set) var distance: Double?
  public private(set) var rate: Double = 0
  private var lastFrame = 0

  public init(alpha: Double = 0.2, beta: Double = 0.02) {
    self.alpha = alpha
    self.beta = beta
  }

  /// Folds in the estimate measured at `frame` (nil: none this frame) and returns the
  /// smoothed distance at that frame.
  public mutating func update(_ measured: Double?, frame: Int) -> Double? {
    guard let current = distance else {
      distance = measured
      lastFrame = frame
      return measured
    }
    let elapsed = Double(max(1, frame - lastFrame))
    let predicted = max(0, current + rate * elapsed)
    lastFrame = frame
    guard let measured else {
      distance = predicted
      return predicted
    }
    let residual = measured - predicted
    distance = max(0, predicted + alpha * residual)
    rate += beta * residual / elapsed
    return distance
  }
}
