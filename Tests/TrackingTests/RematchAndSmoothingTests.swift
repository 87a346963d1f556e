import Testing
import Tracking

@Suite struct RematchPolicyTests {
  let policy = RematchPolicy()  // 1.5× size, 30 frames

  @Test func dueWhenTheSizeChangesByTheFactorEitherWay() {
    // Size is the square root of the area: 1.5× as wide and high is 2.25× the area.
    #expect(!policy.isDue(searchedFrame: 1, searchedArea: 100, frame: 2, area: 224))
    #expect(policy.isDue(searchedFrame: 1, searchedArea: 100, frame: 2, area: 225))
    #expect(!policy.isDue(searchedFrame: 1, searchedArea: 225, frame: 2, area: 101))
    #expect(policy.isDue(searchedFrame: 1, searchedArea: 225, frame: 2, area: 100))
  }

  @Test func dueAfterTheFrameCount() {
    #expect(!policy.isDue(searchedFrame: 10, searchedArea: 100, frame: 39, area: 100))
    #expect(policy.isDue(searchedFrame: 10, searchedArea: 100, frame: 40, area: 100))
  }
}

@Suite struct DistanceSmootherTests {
  /// A steady 5 m estimate with ±0.5 m alternating jitter: the smoothed value stays within a
  /// fraction of it.
  @Test func jitterIsDamped() {
    var smoother = DistanceSmoother()
    var outputs: [Double] = []
    for frame in 1...200 {
      outputs.append(smoother.update(frame.isMultiple(of: 2) ? 5.5 : 4.5, frame: frame)!)
    }
    let settled = outputs.suffix(100)
    #expect(settled.allSatisfy { abs($0 - 5) < 0.2 }, "\(settled.min()!)…\(settled.max()!)")
  }

  /// An object approaching at 0.05 m a frame is followed with no lasting lag, also across
  /// frames without an estimate and skipped frame numbers.
  @Test func aRealApproachIsFollowed() {
    var smoother = DistanceSmoother()
    var last = 0.0
    for frame in stride(from: 1, through: 200, by: 2) {
      let truth = 15 - 0.05 * Double(frame)
      last = smoother.update(frame % 20 == 11 ? nil : truth, frame: frame)!
    }
    #expect(abs(last - (15 - 0.05 * 199)) < 0.05, "\(last)")
  }

  @Test func noEstimateYetIsNil() {
    var smoother = DistanceSmoother()
    #expect(smoother.update(nil, frame: 1) == nil)
    #expect(smoother.update(3, frame: 2) == 3)
  }
}
