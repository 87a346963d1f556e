import Foundation
import NIOConcurrencyHelpers

/// Runs blocking work (image decoding, resizing, catalog scans) off Swift's cooperative
/// threads, which also serve the network. A cancelled caller is answered at once; work not
/// yet started is skipped, work under way finishes and its result is dropped.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
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
final class FirstOutcome<Value: Sendable>: Sendable {
  private let state = NIOLockedValueBox<
    (result: Result<Value, any Error>?, waiter: CheckedContinuation<Value, any Error>?)
  >(
    (nil, nil))

  var isResolved: Bool { state.withLockedValue { $0.result != nil } }

  func resolve(_ result: Result<Value, any Error>) {
    let waiter = state.withLockedValue { state -> CheckedContinuation<Value, any Error>? in
      guard state.result == nil else { return nil }
      state.result = result
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume(with: result)
  }

  func value() async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
      let ready = state.withLockedValue { state -> Result<Value, any Error>? in
        if state.result == nil { state.waiter = continuation }
        return state.result
      }
      if let ready { continuation.resume(with: ready) }
    }
  }
}
