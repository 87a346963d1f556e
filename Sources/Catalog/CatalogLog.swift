import Logging
import Synchronization

/// The catalog's log. Its fallbacks keep answers correct (an unreadable HNSW snapshot is
/// rebuilt, a graph that cannot grow leaves items to the exact scan, a failed snapshot write
/// is retried at the next open), so nothing fails; but each is slower than the normal path,
/// and an operator must be able to see it: each kind is logged once per process as a warning.
public enum CatalogLog {
  private static let state = Mutex(State())

  private struct State {
    var logger = Logger(label: "glimpse.catalog")
    var warned: Set<String> = []
  }

  /// Where the warnings go (tests capture them; the default follows `LoggingSystem`).
  public static var logger: Logger {
    get { state.withLock { $0.logger } }
    set { state.withLock { $0.logger = newValue } }
  }

  /// Logs `message` as a warning the first time `kind` happens (kinds: `snapshot_unreadable`,
  /// `snapshot_write_failed`, `graph_unavailable`, `graph_add_failed`).
  static func warnOnce(_ kind: String, _ message: String, _ metadata: Logger.Metadata = [:]) {
    let (first, logger) = state.withLock { state in (state.warned.insert(kind).inserted, state.logger) }
    guard first else { return }
    var details = metadata
    details["fallback"] = "\(kind)"
    logger.warning("\(message)", metadata: details)
  }

  /// Forgets which warnings were given (for tests).
  static func resetWarnings() {
    state.withLock { $0.warned = [] }
  }
}
