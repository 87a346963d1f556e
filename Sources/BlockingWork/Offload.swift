import NIOConcurrencyHelpers
import NIOPosix

/// Runs blocking work (model loading, image decoding and resizing, the catalog's exact scan) off
/// Swift's cooperative threads, which also serve the network: the one executor for such work
/// in Glimpse, NIO's blocking thread pool (`NIOThreadPool.singleton`, sized to the cores, the
/// pool NIO's own file I/O uses), so that a burst of requests queues there instead of starting
/// a thread each. A cancelled caller is answered at once; work not yet started is skipped, work
/// under way finishes and its result is dropped.
public func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
  try Task.checkCancellation()
  let outcome = FirstOutcome<T>()
  return try await withTaskCancellationHandler {
    NIOThreadPool.singleton.submit { state in
      guard case .active = state, !outcome.isResolved else {
        outcome.resolve(.failure(CancellationError()))
        return
      }
      outcome.resolve(Result { try work() })
    }
    return try await outcome.value()
  } onCancel: {
    outcome.resolve(.failure(CancellationError()))
  }
}

/// The first of several racing results, handed to whoever waits for it.
public final class FirstOutcome<Value: Sendable>: Sendable {
  private let state = NIOLockedValueBox<
    (result: Result<Value, any Error>?, waiter: CheckedContinuation<Value, any Error>?)
  >(
    (nil, nil))

  public init() {}

  public var isResolved: Bool { state.withLockedValue { $0.result != nil } }

  /// Records `result` unless one is recorded already, and wakes the waiter.
  public func resolve(_ result: Result<Value, any Error>) {
    let waiter = state.withLockedValue { state -> CheckedContinuation<Value, any Error>? in
      guard state.result == nil else { return nil }
      state.result = result
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume(with: result)
  }

  /// The first result, once there is one.
  public func value() async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
      let ready = state.withLockedValue { state -> Result<Value, any Error>? in
        if state.result == nil { state.waiter = continuation }
        return state.result
      }
      if let ready { continuation.resume(with: ready) }
    }
  }
}
