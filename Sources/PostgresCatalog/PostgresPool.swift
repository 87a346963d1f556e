import Catalog
import Logging
import PostgresNIO
import Synchronization

/// The connection pool behind a `PostgresCatalog`, and whether its database can be reached.
///
/// PostgresNIO's pool retries failed connects with a backoff that grows to a minute, and a
/// call waits for a connection meanwhile: during an outage every request would hang until the
/// server's request time limit, and after it the pool could stay silent for many seconds. So
/// this wrapper watches the database itself. While it is up, a probe runs every 250 ms on the
/// pool (confirmed on a fresh connection when it fails); when a probe or a call fails to reach it, the catalog is marked down (calls then
/// fail at once with `.unavailable`, and calls in flight are abandoned) and probes on fresh
/// connections retry with a backoff capped at half a second. When the database answers again,
/// a new pool replaces the old one, whose backoff would still be running.
final class PostgresPool: Sendable {
  private struct Current: Sendable {
    var client: PostgresClient
    var run: Task<Void, Never>
    /// Why the database is down, nil while it is up.
    var problem: String?
    var closed = false
  }

  private let current: Mutex<Current>
  private let monitor = Mutex<Task<Void, Never>?>(nil)
  private let configuration: PostgresClient.Configuration
  private let probeConfiguration: PostgresConnection.Configuration
  private let timeouts: PostgresSettings.Timeouts
  private let logger: Logger
  let statistics = PoolStatistics()

  static let probeInterval = Duration.milliseconds(250)
  static let maximumBackoff = Duration.milliseconds(500)
  /// A pool whose connections died waits for a new one: past this a fresh connection is tried
  /// (with the probe interval, an outage shows within 0.75 s plus that connection's refusal).
  static let poolProbeLimit = Duration.milliseconds(500)

  init(
    configuration: PostgresClient.Configuration, probeConfiguration: PostgresConnection.Configuration,
    timeouts: PostgresSettings.Timeouts, logger: Logger
  ) async {
    self.configuration = configuration
    self.probeConfiguration = probeConfiguration
    self.timeouts = timeouts
    self.logger = logger
    let (client, run) = await Self.startClient(configuration, logger: logger)
    current = Mutex(Current(client: client, run: run))
    let watcher = Self.watch(self)
    monitor.withLock { $0 = watcher }
  }

  /// A pool with its background task running (queries wait for it; waiting for the task to
  /// start spares the log a warning about it).
  private static func startClient(_ configuration: PostgresClient.Configuration, logger: Logger) async
    -> (PostgresClient, Task<Void, Never>)
  {
    let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    let (started, signalStarted) = AsyncStream<Void>.makeStream()
    let run = Task {
      signalStarted.finish()
      await client.run()
    }
    for await _ in started {}
    return (client, run)
  }

  /// Runs `body` on the pool within the call time limit; fails at once with `.unavailable`
  /// while the database is down. Errors come back as catalog errors saying what failed
  /// (`action`); the call is reported to the observer under `operation`.
  func call<Result: Sendable>(
    _ operation: String, _ action: String, statements: Int = 1,
    _ body: @escaping @Sendable (PostgresClient) async throws -> Result
  ) async throws -> Result {
    let started = ContinuousClock.now
    do {
      let result = try await attempt(action, limit: timeouts.call * max(statements, 1), body)
      report(operation, started, nil)
      return result
    } catch let error as CatalogError {
      report(operation, started, error.kind)
      throw error
    }
  }

  private func attempt<Result: Sendable>(
    _ action: String, limit: Duration, _ body: @escaping @Sendable (PostgresClient) async throws -> Result
  ) async throws(CatalogError) -> Result {
    let (client, problem, closed) = current.withLock { ($0.client, $0.problem, $0.closed) }
    if closed { throw CatalogError.storage("\(action): the catalog is closed") }
    if let problem { throw CatalogError.unavailable(problem) }
    statistics.started()
    defer { statistics.finished() }
    do {
      return try await Deadline.run(within: limit, abandon: { [weak self] in self?.isDown ?? true }) {
        try await body(client)
      }
    } catch is Deadline.Exceeded {
      throw CatalogError.unavailable("\(action): no answer within \(limit)")
    } catch is Deadline.Abandoned {
      throw CatalogError.unavailable(current.withLock { $0.problem } ?? "\(action): the database went away")
    } catch {
      let catalogError = PostgresEncoding.catalogError(error, while: action)
      if case .unavailable(let problem) = catalogError { markDown(problem) }
      throw catalogError
    }
  }

  private let observer = Mutex<CatalogCallObserver?>(nil)

  func observeCalls(_ observer: @escaping CatalogCallObserver) {
    self.observer.withLock { $0 = observer }
  }

  private func report(_ operation: String, _ started: ContinuousClock.Instant, _ errorKind: String?) {
    guard let observer = observer.withLock({ $0 }) else { return }
    observer(operation, (ContinuousClock.now - started) / .seconds(1), errorKind)
  }

  /// Why the database is down, nil while it is up.
  var problem: String? { current.withLock { $0.problem } }

  var isDown: Bool { current.withLock { $0.problem != nil } }

  /// Throws `.unavailable` while the database is down.
  func checkAvailable() throws {
    if let problem = current.withLock({ $0.problem }) { throw CatalogError.unavailable(problem) }
  }

  func close() async {
    let (run, watcher) = current.withLock { state in
      state.closed = true
      return (state.run, monitor.withLock { $0 })
    }
    watcher?.cancel()
    await watcher?.value
    run.cancel()
    await run.value
  }

  deinit {
    // A store dropped without close() still lets its connections go.
    monitor.withLock { $0?.cancel() }
    current.withLock { $0.run.cancel() }
  }

  // MARK: Watching the database

  /// The watcher holds the pool only during a step, so that a store dropped without `close()`
  /// is still freed (and its deinit stops the watcher).
  private static func watch(_ pool: PostgresPool) -> Task<Void, Never> {
    Task { [weak pool] in
      var failures = 0
      while !Task.isCancelled, let pool {
        failures = await pool.watchStep(failures: failures)
      }
    }
  }

  /// One probe, and the wait after it; returns the count of failed probes in a row.
  private func watchStep(failures: Int) async -> Int {
    if !isDown {
      try? await Task.sleep(for: Self.probeInterval)
      // A pool that is merely busy can be slow to lend a connection: the database counts as
      // down only when a fresh connection fails too.
      if await probe(onPool: true) != nil, let problem = await probe(onPool: false) { markDown(problem) }
      return 0
    }
    if let problem = await probe(onPool: false) {
      current.withLock { $0.problem = problem }
      try? await Task.sleep(for: Self.backoff(afterFailures: failures + 1))
      return failures + 1
    }
    await reopen()
    return 0
  }

  /// 100 ms, 200 ms, 400 ms, then 500 ms: the database is found again within half a second of
  /// its return, and an outage costs at most two connection attempts a second.
  static func backoff(afterFailures failures: Int) -> Duration {
    min(.milliseconds(100 << min(failures - 1, 10)), maximumBackoff)
  }

  /// Why `SELECT 1` fails to reach the database (nil when it answers), on the pool or on a
  /// fresh connection of its own.
  private func probe(onPool: Bool) async -> String? {
    let client = current.withLock { $0.client }
    let configuration = probeConfiguration
    let logger = logger
    do {
      try await Deadline.run(within: onPool ? min(timeouts.connect, Self.poolProbeLimit) : timeouts.connect) {
        if onPool {
          _ = try await client.query("SELECT 1", logger: logger)
          return
        }
        let connection = try await PostgresConnection.connect(
          configuration: configuration, id: 0, logger: logger)
        defer { Task { try? await connection.close() } }
        _ = try await connection.query("SELECT 1", logger: logger)
      }
      return nil
    } catch is Deadline.Exceeded {
      return "the database does not answer within \(timeouts.connect)"
    } catch {
      guard
        case .unavailable(let problem) = PostgresEncoding.catalogError(
          error, while: "cannot reach the database")
      else { return nil }
      return problem
    }
  }

  private func markDown(_ problem: String) {
    let wasUp = current.withLock { state in
      defer { state.problem = state.problem ?? problem }
      return state.problem == nil && !state.closed
    }
    if wasUp {
      statistics.outages.add(1, ordering: .relaxed)
      logger.warning(
        "the catalog's database cannot be reached: catalog requests answer 503 until it returns",
        metadata: ["problem": "\(problem)"])
    }
  }

  /// Replaces the pool after an outage and marks the database up.
  private func reopen() async {
    let (client, run) = await Self.startClient(configuration, logger: logger)
    let old = current.withLock { state -> Task<Void, Never>? in
      guard !state.closed else { return nil }
      defer { state = Current(client: client, run: run) }
      return state.run
    }
    guard let old else {
      run.cancel()
      return
    }
    old.cancel()
    logger.warning("the catalog's database is reachable again: serving catalog requests")
  }
}

/// Calls in flight and waiting, counted by the wrapper (PostgresNIO does not expose its pool's
/// state), for `/metrics`.
final class PoolStatistics: Sendable {
  let inFlight = Atomic<Int>(0)
  let outages = Atomic<Int>(0)

  func started() { inFlight.add(1, ordering: .relaxed) }
  func finished() { inFlight.subtract(1, ordering: .relaxed) }
}
