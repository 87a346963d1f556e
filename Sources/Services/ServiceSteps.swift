/// How a service runs its blocking steps (decoding, resizing and packing): the CLI runs them
/// where it is (`InlineSteps`); the server runs them off Swift's cooperative threads, which
/// also serve the network, and times each one for its `Server-Timing` header.
public protocol ServiceSteps: Sendable {
  /// Runs the blocking `work` of the step named `step` (`decode`, `prepare`).
  func run<T: Sendable>(_ step: String, _ work: @escaping @Sendable () throws -> T) async throws -> T
}

/// Each step on the caller's thread, untimed: what a command-line run wants.
public struct InlineSteps: ServiceSteps {
  public init() {}

  public func run<T: Sendable>(_ step: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
    try work()
  }
}
