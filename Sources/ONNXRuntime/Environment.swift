import Foundation
import Logging

/// The process-wide ONNX Runtime environment, with ORT's log routed to swift-log.
///
/// ORT keeps one environment per process; every session is created from it. It is never
/// released: sessions can outlive any scope that would own it, and the process ends it.
/// `@unchecked Sendable`: its stored properties are constants, and ORT's environment is thread-safe.
public final class ORTEnvironment: @unchecked Sendable {
  public let library: ORTLibrary
  let pointer: OpaquePointer
  /// Kept alive for the callback's context pointer.
  private let logBox: Unmanaged<LogBox>

  nonisolated(unsafe) private static var shared: ORTEnvironment?
  private static let lock = NSLock()

  /// The environment for `library`, created on first use. ORT allows one environment per
  /// process, so a request for another library is refused rather than handed the first one
  /// (which would silently run another ORT build than the caller chose).
  public static func shared(library: ORTLibrary, logger: Logger = Logger(label: "onnxruntime"))
    throws -> ORTEnvironment
  {
    lock.lock()
    defer { lock.unlock() }
    if let shared {
      guard shared.library === library else {
        throw ORTError.environmentExists(library: shared.library.path, requested: library.path)
      }
      return shared
    }
    let environment = try ORTEnvironment(library: library, logger: logger)
    shared = environment
    return environment
  }

  private init(library: ORTLibrary, logger: Logger) throws {
    self.library = library
    let box = Unmanaged.passRetained(LogBox(logger: logger))
    var environment: OpaquePointer?
    do {
      try library.check(
        library.createEnvWithCustomLogger(
          forwardORTLog, box.toOpaque(), ORTLogLevel(logger.logLevel).rawValue, "glimpse",
          &environment))
    } catch {
      box.release()
      throw error
    }
    self.pointer = environment!
    self.logBox = box
  }
}

/// Holds the logger that ORT's C callback writes to.
/// `@unchecked Sendable`: it holds one constant `Logger`, itself Sendable; the box exists only to cross the C callback.
final class LogBox: @unchecked Sendable {
  let logger: Logger
  init(logger: Logger) { self.logger = logger }
}

/// `OrtLoggingLevel`.
enum ORTLogLevel: Int32 {
  case verbose = 0, info, warning, error, fatal

  /// ORT's INFO level is chatty (one line per graph transform), so Glimpse's info maps to
  /// ORT warnings; debug and trace open ORT's info and verbose output.
  init(_ level: Logger.Level) {
    switch level {
    case .trace: self = .verbose
    case .debug: self = .info
    case .info, .notice, .warning: self = .warning
    case .error: self = .error
    case .critical: self = .fatal
    }
  }

  var swiftLogLevel: Logger.Level {
    switch self {
    case .verbose: .trace
    case .info: .debug
    case .warning: .warning
    case .error: .error
    case .fatal: .critical
    }
  }
}

/// The `OrtLoggingFunction` handed to ORT: forwards one message to swift-log.
private let forwardORTLog:
  @convention(c) (
    UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
    UnsafePointer<CChar>?, UnsafePointer<CChar>?
  ) -> Void = { context, severity, category, _, location, message in
    guard let context else { return }
    let box = Unmanaged<LogBox>.fromOpaque(context).takeUnretainedValue()
    var level = (ORTLogLevel(rawValue: severity) ?? .warning).swiftLogLevel
    let text = message.map { String(cString: $0) } ?? ""
    // Writing an optimized graph always warns that it is tied to this machine; the optimized
    // model cache keys its files by CPU model and ORT version for exactly that reason.
    if text.hasPrefix("Serializing optimized model") { level = .debug }
    box.logger.log(
      level: level, "\(text)",
      metadata: [
        "category": .string(category.map { String(cString: $0) } ?? ""),
        "location": .string(location.map { String(cString: $0) } ?? ""),
      ])
  }
