import BlockingWork
import Foundation
import Synchronization
import Testing

/// `offload`, the one executor for blocking work: results and errors come back, blocking work
/// leaves the cooperative threads free for async work, and a cancelled caller is answered
/// without waiting for the work under way.
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

  /// Twice as many blocked work items as cores: run on the cooperative threads (one per core),
  /// they would hold all of them, and the async task beside them would wait the full 0.8 s.
  @Test func blockedWorkLeavesTheCooperativeThreadsFree() async throws {
    let blockers = 2 * ProcessInfo.processInfo.activeProcessorCount
    let started = Shared(0)
    try await withThrowingTaskGroup(of: Void.self) { group in
      for _ in 0..<blockers {
        group.addTask {
          try await offload {
            started.value.withLock { $0 += 1 }
            usleep(800_000)
          }
        }
      }
      while started.value.withLock({ $0 }) < blockers { try await Task.sleep(for: .milliseconds(5)) }
      let clock = ContinuousClock()
      let start = clock.now
      let answer = await Task { 1 + 1 }.value
      #expect(answer == 2)
      #expect(start.duration(to: clock.now) < .milliseconds(400), "an async task ran beside the blocked work")
      try await group.waitForAll()
    }
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
