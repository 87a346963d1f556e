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
///
/// Waiting pays off only when other requests are in flight, so a run waits for company only
/// when there is evidence of concurrency: its predecessor held more than one request, more
/// than one is already waiting, or the owner says other requests are on their way
/// (`othersInFlight`: a server counts the requests it is serving, whose inputs are still
/// being decoded). A lone client (one request at a time) then never waits: on a GPU the 2 ms
/// default wait was as long as the model run itself.
///
/// Model runs block a thread for milliseconds to seconds, so they happen on a dedicated
/// thread rather than in Swift's cooperative pool (whose few threads also serve the network).
/// The inputs of one request always run together, in order.
public final class DynamicBatcher<Input: Sendable, Output: Sendable>: @unchecked Sendable {
  public typealias Run = @Sendable ([Input]) throws -> [Output]

  private struct Request {
    var inputs: [Input]
    var enqueued: ContinuousClock.Instant
    var continuation: CheckedContinuation<[Output], any Error>
    var ran: BatchRunReport?
  }

  public let name: String
  public let options: BatchingOptions
  private let run: Run
  private let observer: BatcherObserver
  private let condition = NSCondition()
  private var waiting: [Request] = []
  private var waitingInputs = 0
  private var isClosed = false
  private var worker: Thread?
  /// Requests in the last run: more than one means other clients are in flight.
  private var previousRunRequests = 1
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
    // Weak: a batcher released before its thread first runs (a short-lived server in a test)
    // must not be touched by it; once running, the loop's own reference keeps it alive.
    let thread = Thread { [weak self] in self?.workLoop() }
    thread.name = "glimpse-batcher-\(name)"
    worker = thread
    thread.start()
  }

  /// Inputs waiting for a run.
  public var queueDepth: Int {
    condition.lock()
    defer { condition.unlock() }
    return waitingInputs
  }

  /// Runs `inputs` (in one model run, possibly with other requests' inputs) and returns
  /// their outputs in order.
  public func submit(_ inputs: [Input], ran: BatchRunReport? = nil) async throws -> [Output] {
    guard !inputs.isEmpty else { return [] }
    guard inputs.count <= options.maxBatch else {
      throw BatcherError.tooManyInputs(count: inputs.count, limit: options.maxBatch)
    }
    return try await withCheckedThrowingContinuation { continuation in
      condition.lock()
      defer { condition.unlock() }
      if isClosed { return continuation.resume(throwing: BatcherError.closed) }
      if waitingInputs + inputs.count > options.queueLength {
        return continuation.resume(
          throwing: BatcherError.queueFull(waiting: waitingInputs, limit: options.queueLength))
      }
      waiting.append(Request(inputs: inputs, enqueued: .now, continuation: continuation, ran: ran))
      waitingInputs += inputs.count
      observer.queueDepthChanged(waitingInputs)
      condition.signal()
    }
  }

  /// Refuses new work; what is already queued still runs. The worker thread then ends.
  public func close() {
    condition.lock()
    isClosed = true
    condition.broadcast()
    condition.unlock()
  }

  /// Whether the next run should wait for more inputs: only while it has room, and only when
  /// other requests are in flight (see the type's comment).
  private var expectsMoreSoon: Bool {
    waitingInputs < options.maxBatch
      && (previousRunRequests > 1 || waiting.count > 1 || othersInFlight?() == true)
  }

  // MARK: Worker

  private func workLoop() {
    while let batch = nextBatch() {
      execute(batch)
    }
  }

  /// Blocks until a batch is ready: full, or the oldest request has waited `maxWait`, or at
  /// once when no other request is in flight. Returns nil once closed and drained.
  private func nextBatch() -> [Request]? {
    condition.lock()
    defer { condition.unlock() }
    while waiting.isEmpty {
      if isClosed { return nil }
      condition.wait()
    }
    let deadline = waiting[0].enqueued + options.maxWait
    while expectsMoreSoon && !isClosed {
      let remaining = ContinuousClock.now.duration(to: deadline)
      if remaining <= .zero { break }
      _ = condition.wait(until: Date(timeIntervalSinceNow: remaining.seconds))
    }
    var batch: [Request] = []
    var size = 0
    while let first = waiting.first, size + first.inputs.count <= options.maxBatch {
      batch.append(waiting.removeFirst())
      size += first.inputs.count
    }
    waitingInputs -= size
    previousRunRequests = batch.count
    observer.queueDepthChanged(waitingInputs)
    return batch
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
    let parts = components
    return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
  }
}
