import Foundation
import Services
import Testing

/// The batcher merges concurrent requests into runs, returns each request its own outputs,
/// bounds its queue, isolates failures and drains on close.
struct DynamicBatcherTests {
  /// Records the size of every run.
  final class RunLog: @unchecked Sendable {
    private let lock = NSLock()
    private var sizes: [Int] = []
    func record(_ size: Int) { lock.withLock { sizes.append(size) } }
    var all: [Int] { lock.withLock { sizes } }
  }

  /// Concurrent requests, with the owner saying others are in flight (as a server does while
  /// it serves several), are merged into runs of at most `maxBatch`.
  @Test func concurrentRequestsShareRunsAndGetTheirOwnOutputs() async throws {
    let log = RunLog()
    let batcher = DynamicBatcher<Int, Int>(
      name: "square", options: BatchingOptions(maxBatch: 8, maxWait: .milliseconds(50), queueLength: 1000),
      othersInFlight: { true }
    ) { inputs in
      log.record(inputs.count)
      Thread.sleep(forTimeInterval: 0.005)
      return inputs.map { $0 * $0 }
    }
    let answers = try await withThrowingTaskGroup(of: (Int, [Int]).self) { group in
      for request in 0..<40 {
        // Requests of 1 to 3 inputs: a request's inputs must stay together and in order.
        let inputs = (0..<(request % 3 + 1)).map { request * 10 + $0 }
        group.addTask { (request, try await batcher.submit(inputs)) }
      }
      var answers: [Int: [Int]] = [:]
      for try await (request, outputs) in group { answers[request] = outputs }
      return answers
    }
    for request in 0..<40 {
      let expected = (0..<(request % 3 + 1)).map { (request * 10 + $0) * (request * 10 + $0) }
      #expect(answers[request] == expected)
    }
    #expect(log.all.allSatisfy { $0 <= 8 }, "no run over maxBatch: \(log.all)")
    let submitted = (0..<40).map { $0 % 3 + 1 }.reduce(0, +)
    let ran = log.all.reduce(0, +)
    #expect(ran == submitted)
    #expect(log.all.count < 40, "concurrent requests were merged: \(log.all)")
    batcher.close()
  }

  /// A client sending one request at a time never waits for company: with an hour's wait,
  /// its five requests each run alone and are answered (a wait would trip the time limit;
  /// elapsed-time bounds proved fragile on a loaded CI machine, where one request took 12 s).
  /// Merging under concurrency is `concurrentRequestsShareRunsAndGetTheirOwnOutputs`.
  @Test(.timeLimit(.minutes(3))) func aLoneClientDoesNotWait() async throws {
    let log = RunLog()
    let batcher = DynamicBatcher<Int, Int>(
      name: "echo", options: BatchingOptions(maxBatch: 16, maxWait: .seconds(3600), queueLength: 100)
    ) { inputs in
      log.record(inputs.count)
      return inputs
    }
    for request in 0..<5 {
      #expect(try await batcher.submit([request]) == [request])
    }
    #expect(log.all == [1, 1, 1, 1, 1])
    batcher.close()
  }

  @Test func aFullQueueRefusesWithQueueFull() async throws {
    let gate = DispatchSemaphore(value: 0)
    let batcher = DynamicBatcher<Int, Int>(
      name: "slow", options: BatchingOptions(maxBatch: 1, maxWait: .zero, queueLength: 2)
    ) { inputs in
      gate.wait()
      return inputs
    }
    // The first request occupies the worker; two more fill the queue; the fourth is refused.
    let running = Task { try await batcher.submit([1]) }
    try await Task.sleep(for: .milliseconds(100))
    let queued = [Task { try await batcher.submit([2]) }, Task { try await batcher.submit([3]) }]
    try await Task.sleep(for: .milliseconds(100))
    await #expect(throws: BatcherError.queueFull(waiting: 2, limit: 2)) { try await batcher.submit([4]) }
    for _ in 0..<3 { gate.signal() }
    #expect(try await running.value == [1])
    for (task, expected) in zip(queued, [2, 3]) { #expect(try await task.value == [expected]) }
    batcher.close()
  }

  @Test func oneBadInputFailsOnlyItsOwnRequest() async throws {
    struct Bad: Error {}
    let batcher = DynamicBatcher<Int, Int>(
      name: "picky", options: BatchingOptions(maxBatch: 16, maxWait: .milliseconds(50), queueLength: 100)
    ) { inputs in
      if inputs.contains(-1) { throw Bad() }
      return inputs
    }
    let good = Task { try await batcher.submit([1, 2]) }
    let bad = Task { try await batcher.submit([-1]) }
    let other = Task { try await batcher.submit([3]) }
    #expect(try await good.value == [1, 2])
    #expect(try await other.value == [3])
    await #expect(throws: Bad.self) { try await bad.value }
    batcher.close()
  }

  @Test func limitsAndClose() async throws {
    let batcher = DynamicBatcher<Int, Int>(name: "echo", options: BatchingOptions(maxBatch: 4)) { $0 }
    await #expect(throws: BatcherError.tooManyInputs(count: 5, limit: 4)) {
      try await batcher.submit([1, 2, 3, 4, 5])
    }
    #expect(try await batcher.submit([7]) == [7])
    batcher.close()
    await #expect(throws: BatcherError.closed) { try await batcher.submit([1]) }
  }
}
