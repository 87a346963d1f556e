import Testing

@testable import Services

/// The batcher's policy on made-up instants: no threads, no sleeps, no clock.
@Suite struct BatchQueueTests {
  let start = ContinuousClock.now
  func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

  func queue(maxBatch: Int = 8, maxWaitMs: Int = 10, queueLength: Int = 16) -> BatchQueue<String> {
    BatchQueue(
      options: BatchingOptions(
        maxBatch: maxBatch, maxWait: .milliseconds(maxWaitMs), queueLength: queueLength))
  }

  func runs(_ decision: BatchQueue<String>.Decision) -> [String]? {
    if case .run(let batch) = decision { return batch }
    return nil
  }

  @Test func aLoneRequestRunsAtOnce() {
    var queue = queue()
    #expect(queue.admit("a", size: 1, at: at(0)) == .accepted)
    #expect(runs(queue.decide(now: at(0), othersInFlight: false)) == ["a"])
    if case .idle = queue.decide(now: at(1), othersInFlight: false) {
    } else {
      Issue.record("idle when empty")
    }
  }

  @Test func itWaitsForCompanyOnlyWithEvidenceOfConcurrency() {
    var queue = queue()
    _ = queue.admit("a", size: 1, at: at(0))
    guard case .wait(let until) = queue.decide(now: at(1), othersInFlight: true) else {
      Issue.record("others in flight: wait")
      return
    }
    #expect(until == at(10), "until the oldest has waited maxWait")
    _ = queue.admit("b", size: 2, at: at(4))
    if case .wait = queue.decide(now: at(9), othersInFlight: false) {
    } else {
      Issue.record("two waiting: still waits while there is room")
    }
    #expect(runs(queue.decide(now: at(10), othersInFlight: false)) == ["a", "b"], "at the deadline")
    // The run held two requests: the next one waits for company too, even alone.
    _ = queue.admit("c", size: 1, at: at(20))
    if case .wait = queue.decide(now: at(20), othersInFlight: false) {
    } else {
      Issue.record("after a shared run")
    }
    #expect(runs(queue.decide(now: at(30), othersInFlight: false)) == ["c"])
    _ = queue.admit("d", size: 1, at: at(40))
    #expect(runs(queue.decide(now: at(40), othersInFlight: false)) == ["d"], "the last run was alone")
  }

  @Test func aFullBatchRunsWithoutWaitingAndRequestsAreNeverSplit() {
    var queue = queue(maxBatch: 4)
    for (name, size) in [("a", 2), ("b", 1), ("c", 1), ("d", 3)] {
      _ = queue.admit(name, size: size, at: at(0))
    }
    #expect(runs(queue.decide(now: at(0), othersInFlight: true)) == ["a", "b", "c"], "4 inputs: full")
    #expect(queue.waitingInputs == 3)
    if case .wait = queue.decide(now: at(1), othersInFlight: true) {
    } else {
      Issue.record("room left: waits")
    }
    #expect(runs(queue.decide(now: at(10), othersInFlight: true)) == ["d"])
  }

  @Test func admissionLimits() {
    var queue = queue(maxBatch: 4, queueLength: 5)
    #expect(queue.admit("big", size: 5, at: at(0)) == .refused(.tooManyInputs(count: 5, limit: 4)))
    #expect(queue.admit("a", size: 4, at: at(0)) == .accepted)
    #expect(queue.admit("b", size: 2, at: at(0)) == .refused(.queueFull(waiting: 4, limit: 5)))
    #expect(queue.admit("c", size: 1, at: at(0)) == .accepted)
  }

  @Test func closingRefusesNewWorkAndDrainsTheQueueWithoutWaiting() {
    var queue = queue()
    _ = queue.admit("a", size: 1, at: at(0))
    _ = queue.admit("b", size: 1, at: at(0))
    queue.close()
    #expect(queue.admit("c", size: 1, at: at(0)) == .refused(.closed))
    #expect(runs(queue.decide(now: at(0), othersInFlight: true)) == ["a", "b"], "no wait once closed")
    if case .finished = queue.decide(now: at(0), othersInFlight: true) {} else { Issue.record("finished") }
  }
}
