import Catalog
import Synchronization

/// Runs work with a time limit, answering at the limit even if the work itself cannot be
/// interrupted (a query waiting on a dead connection): the work is cancelled and left to end
/// on its own, and the caller gets `Deadline.Exceeded` at once.
enum Deadline {
  struct Exceeded: Error {}
  struct Abandoned: Error {}

  /// Runs `body` for at most `limit`; gives up early with `Abandoned` when `abandon()` turns
  /// true (checked every 50 ms), e.g. when the database is known to be down.
  static func run<Result: Sendable>(
    within limit: Duration, abandon: @escaping @Sendable () -> Bool = { false },
    _ body: @escaping @Sendable () async throws -> Result
  ) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
      let gate = Gate(continuation)
      let work = Task {
        do { gate.resume(with: .success(try await body())) } catch { gate.resume(with: .failure(error)) }
      }
      Task {
        let end = ContinuousClock.now + limit
        while !gate.isResumed, ContinuousClock.now < end {
          if abandon() {
            gate.resume(with: .failure(Abandoned()))
            break
          }
          try? await Task.sleep(for: min(.milliseconds(50), end - ContinuousClock.now))
        }
        if !gate.isResumed { gate.resume(with: .failure(Exceeded())) }
        work.cancel()
      }
    }
  }

  /// Resumes a continuation once, whoever comes first.
  private final class Gate<Result: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<Result, any Error>?>

    init(_ continuation: CheckedContinuation<Result, any Error>) {
      self.continuation = Mutex(continuation)
    }

    var isResumed: Bool { continuation.withLock { $0 == nil } }

    func resume(with result: Swift.Result<Result, any Error>) {
      let waiting = continuation.withLock { value in
        defer { value = nil }
        return value
      }
      waiting?.resume(with: result)
    }
  }
}
