import Foundation

/// Why a batcher refused work.
public enum BatcherError: Error, Equatable, CustomStringConvertible {
  /// More inputs are waiting than `queueLength`: the caller should retry later (HTTP 429).
  case queueFull(waiting: Int, limit: Int)
  /// One request carried more inputs than one model run takes.
  case tooManyInputs(count: Int, limit: Int)
  /// The batcher was closed (the server is shutting down).
  case closed

  public var description: String {
    switch self {
    case .queueFull(let waiting, let limit):
      "the queue is full (\(waiting) inputs waiting, limit \(limit)): retry shortly"
    case .tooManyInputs(let count, let limit): "\(count) inputs in one request, the limit is \(limit)"
    case .closed: "the server is shutting down"
    }
  }
}

/// Settings of a `DynamicBatcher`.
public struct BatchingOptions: Sendable, Equatable {
  /// Most inputs in one model run.
  public var maxBatch: Int
  /// How long the first waiting input may wait for others to join its run. The wait only
  /// happens under load: see `DynamicBatcher`.
  public var maxWait: Duration
  /// Most inputs waiting (not counting the run in progress); beyond it, `queueFull`.
  public var queueLength: Int

  public init(maxBatch: Int = 32, maxWait: Duration = .milliseconds(2), queueLength: Int = 64) {
    self.maxBatch = max(1, maxBatch)
    self.maxWait = maxWait
    self.queueLength = max(1, queueLength)
  }
}

/// What a batcher reports, for metrics.
public struct BatcherObserver: Sendable {
  public var batchRan: @Sendable (_ size: Int, _ seconds: Double) -> Void
  public var queueDepthChanged: @Sendable (_ depth: Int) -> Void

  public init(
    batchRan: @escaping @Sendable (Int, Double) -> Void = { _, _ in },
    queueDepthChanged: @escaping @Sendable (Int) -> Void = { _ in }
  ) {
    self.batchRan = batchRan
    self.queueDepthChanged = queueDepthChanged
  }
}

/// Told, before the answer, how long the model run that held a request took and how many
/// inputs it held (for a request's `Server-Timing`).
public typealias BatchRunReport = @Sendable (_ run: Duration, _ batchSize: Int) -> Void

/// Merges concurrent requests into one model run: up to `maxBatch` inputs, or whatever has
/// arrived `maxWait` after the oldest waiting input. Each request gets exactly its own outputs.
/// When to run is `BatchQueue`'s decision (see there: a lone client never waits); this class
/// only carries the decisions out.
///
/// Model runs block a thread for milliseconds to seconds, so they happen on a dedicated
/// thread rather than in Swift's cooperative pool (whose few threads also serve the network).
/// The inputs of one request always run together, in order.
///
/// `@unchecked Sendable`: the queue is read and changed only under `condition`'s lock, and the
/// other stored properties are constants.
public final class DynamicBatcher<Input: Sendable, Output: Sendable>: @unchecked Sendable {
  public typealias Run = @Sendable ([Input]) throws -> [Output]

  private struct Request {
    var inputs: [Input]
    var continuation: CheckedContinuation<[Output], any Error>
    var ran: BatchRunReport?
  }

  public let name: String
  public let options: BatchingOptions
  private let run: Run
  private let observer: BatcherObserver
  private let condition = NSCondition()
  private var queue: BatchQueue<Request>
  private let othersInFlight: (@Sendable () -> Bool)?

  /// `othersInFlight` tells whether other requests that may bring inputs are in progress
  /// (nil: only what the batcher sees counts).
  public init(
    name: String, options: BatchingOptions, observer: BatcherObserver = BatcherObserver(),
    othersInFlight: (@Sendable () -> Bool)? = nil, run: @escaping Run
  ) {
    self.name = name
    self.options = options
    self.observer = observer
    self.othersInFlight = othersInFlight
    self.run = run
    queue = BatchQueue(options: options)
    // Weak: a batcher released before its thread first runs (a short-lived server in a test)
    // must not be touched by it; once running, the loop's own reference keeps it alive.
    let thread = Thread { [weak self] in self?.workLoop() }
    thread.name = "glimpse-batcher-\(name)"
    thread.start()
  }

  /// Runs `inputs` (in one model run, possibly with other requests' inputs) and returns
  /// their outputs in order.
  public func submit(_ inputs: [Input], ran: BatchRunReport? = nil) async throws -> [Output] {
    guard !inputs.isEmpty else { return [] }
    if inputs.count > options.maxBatch {
      throw BatcherError.tooManyInputs(count: inputs.count, limit: options.maxBatch)
    }
    return try await withCheckedThrowingContinuation { continuation in
      condition.lock()
      defer { condition.unlock() }
      let request = Request(inputs: inputs, continuation: continuation, ran: ran)
      switch queue.admit(request, size: inputs.count, at: .now) {
      case .refused(let error): continuation.resume(throwing: error)
      case .accepted:
        observer.queueDepthChanged(queue.waitingInputs)
        condition.signal()
      }
    }
  }

  /// Refuses new work; what is already queued still runs. The worker thread then ends.
  public func close() {
    condition.lock()
    queue.close()
    condition.broadcast()
    condition.unlock()
  }

  // MARK: Worker

  private func workLoop() {
    while let batch = nextBatch() {
      execute(batch)
    }
  }

  /// Blocks until the queue decides to run a batch; nil once closed and drained.
  private func nextBatch() -> [Request]? {
    condition.lock()
    defer { condition.unlock() }
    while true {
      switch queue.decide(now: .now, othersInFlight: othersInFlight?() == true) {
      case .run(let batch):
        observer.queueDepthChanged(queue.waitingInputs)
        return batch
      case .wait(let deadline):
        let remaining = ContinuousClock.now.duration(to: deadline)
        _ = condition.wait(until: Date(timeIntervalSinceNow: max(0, remaining.seconds)))
      case .idle: condition.wait()
      case .finished: return nil
      }
    }
  }

  private func execute(_ batch: [Request]) {
    let inputs = batch.flatMap(\.inputs)
    let start = ContinuousClock.now
    do {
      let outputs = try run(inputs)
      guard outputs.count == inputs.count else {
        throw BatcherRunError(message: "\(name): \(outputs.count) outputs for \(inputs.count) inputs")
      }
      let runTime = start.duration(to: .now)
      observer.batchRan(inputs.count, runTime.seconds)
      var offset = 0
      for request in batch {
        request.ran?(runTime, inputs.count)
        request.continuation.resume(returning: Array(outputs[offset..<offset + request.inputs.count]))
        offset += request.inputs.count
      }
    } catch {
      // One bad input must not fail its neighbours: run each request alone to find out.
      if batch.count == 1 { return batch[0].continuation.resume(throwing: error) }
      for request in batch { execute([request]) }
    }
  }
}

/// A model run returned the wrong number of outputs.
public struct BatcherRunError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

extension Duration {
  /// The duration in seconds, as a `Double`.
  public var seconds: Double {
    self / .seconds(1)
  }
}
