import Dispatch
import Synchronization

/// Runs blocking work (model loading, image decoding and resizing, thumbnails, the catalog's
/// search) off Swift's cooperative threads, which also serve the network: the one executor for
/// such work in Glimpse. It hands the work to GCD's global queue, whose pool grows past the
/// cores when its threads block, as a burst of decodes did before this executor existed (a
/// pool bounded to the cores would queue them and change how the server answers under load).
/// A cancelled caller is answered at once; work not yet started is skipped, work under way
/// finishes and its result is dropped.
public func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
  try Task.checkCancellation()
  let outcome = FirstOutcome<T>()
  return try await withTaskCancellationHandler {
    DispatchQueue.global().async {
      guard !outcome.isResolved else { return }
      outcome.resolve(Result { try work() })
    }
    return try await outcome.value()
  } onCancel: {
    outcome.resolve(.failure(CancellationError()))
  }
}

/// The first of several racing results, handed to whoever waits for it.
public final class FirstOutcome<Value: Sendable>: Sendable {
  private let state = Mutex<
    (result: Result<Value, any Error>?, waiter: CheckedContinuation<Value, any Error>?)
  >(
    (nil, nil))

  public init() {}

  public var isResolved: Bool { state.withLock { $0.result != nil } }

  /// Records `result` unless one is recorded already, and wakes the waiter.
  public func resolve(_ result: Result<Value, any Error>) {
    let waiter = state.withLock { state -> CheckedContinuation<Value, any Error>? in
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
      let ready = state.withLock { state -> Result<Value, any Error>? in
        if state.result == nil { state.waiter = continuation }
        return state.result
      }
      if let ready { continuation.resume(with: ready) }
    }
  }
}
