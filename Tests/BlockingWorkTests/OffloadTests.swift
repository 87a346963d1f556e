import BlockingWork
import Foundation
import NIOCore
import Synchronization
import Testing

/// `offload`, the one executor for blocking work: results and errors come back, a burst runs
/// on the bounded pool (never more at once than its threads), and a cancelled caller is
/// answered without waiting for the work under way.
@Suite struct OffloadTests {
  struct Failure: Error, Equatable {}

  /// State shared with the work items.
  final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
  }

  @Test func returnsTheResultOrTheError() async throws {
    #expect(try await offload { 6 * 7 } == 42)
    await #expect(throws: Failure.self) { try await offload { () throws -> Int in throw Failure() } }
  }

  @Test func aBurstRunsOnTheBoundedPool() async throws {
    let running = Shared((now: 0, most: 0))
    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<40 {
        group.addTask {
          try await offload {
            running.value.withLock {
              $0.now += 1; $0.most = max($0.most, $0.now)
            }
            usleep(2_000)
            running.value.withLock { $0.now -= 1 }
          }
        }
      }
      try await group.waitForAll()
    }
    let most = running.value.withLock { $0.most }
    #expect(most >= 1 && most <= NIOSingletons.blockingPoolThreadCountSuggestion)
  }

  @Test func aCancelledCallerIsAnsweredAtOnce() async throws {
    let started = Shared(false)
    let task = Task {
      try await offload {
        started.value.withLock { $0 = true }
        usleep(1_500_000)
        return 1
      }
    }
    while !started.value.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
    let clock = ContinuousClock()
    let start = clock.now
    task.cancel()
    await #expect(throws: CancellationError.self) { try await task.value }
    #expect(start.duration(to: clock.now) < .seconds(1), "not after the 1.5 s the work takes")
  }
}
