import Logging
import Synchronization

/// A log handler that keeps the lines it receives, for tests that check what was logged (a
/// fallback's warning, once). Each line is the event as `format` writes it.
public final class CapturedLog: LogHandler, @unchecked Sendable {
  // @unchecked: the lines are guarded by a Mutex; metadata and logLevel are only set through
  // Logger's own (value-type) API before the handler is shared.
  private let captured = Mutex<[String]>([])
  private let format: @Sendable (LogEvent) -> String
  public var metadata: Logger.Metadata = [:]
  public var logLevel: Logger.Level = .trace

  /// `format` defaults to "LEVEL: MESSAGE".
  public init(format: @escaping @Sendable (LogEvent) -> String = { "\($0.level): \($0.message)" }) {
    self.format = format
  }

  /// The lines logged so far, in order.
  public var lines: [String] { captured.withLock { $0 } }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    let line = format(event)
    captured.withLock { $0.append(line) }
  }
}
