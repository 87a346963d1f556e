import Foundation

/// Reports `glimpse models fetch`: on a terminal, a bar with bytes, rate and ETA redrawn in
/// place on standard error; otherwise plain lines on standard output, one when a file starts
/// and ends and at most one every `lineInterval` in between (logs of a slow mirror stay short).
final class FetchProgress {
  private let interactive: Bool
  private let lineInterval: Duration
  private var path = ""
  private var total: Int64?
  private var received: Int64 = 0
  private var resumedAt: Int64 = 0
  private var started = ContinuousClock.now
  private var lastReport = ContinuousClock.now

  init(interactive: Bool = isatty(STDERR_FILENO) != 0, lineInterval: Duration = .seconds(5)) {
    self.interactive = interactive
    self.lineInterval = lineInterval
  }

  func begin(_ path: String, total: Int64?, resumedAt offset: Int64) {
    (self.path, self.total, received, resumedAt) = (path, total, offset, offset)
    (started, lastReport) = (.now, .now)
    guard !interactive else { return }
    let size = total.map { " (\(ProgressFormat.bytes($0)))" } ?? ""
    let resume = offset > 0 ? ", resuming at \(ProgressFormat.bytes(offset))" : ""
    line("\(path): downloading\(size)\(resume)")
  }

  func advance(by count: Int) {
    received += Int64(count)
    let now = ContinuousClock.now
    let interval = interactive ? .milliseconds(100) : lineInterval
    guard lastReport.duration(to: now) >= interval else { return }
    lastReport = now
    if interactive {
      FileHandle.standardError.write(Data(("\r\u{1B}[K" + bar()).utf8))
    } else {
      line("\(path): \(status())")
    }
  }

  /// Shown while a large file is hashed (about 75 MB/s in a release build on this machine).
  func checking() {
    if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K\(path): checking SHA-256…".utf8)) }
  }

  /// The closing line of a file: what was done with it.
  func end(_ message: String) {
    if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    line("\(path): \(message)")
  }

  func note(_ message: String) {
    if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    line(message)
  }

  /// Bytes per second over this transfer (resumed bytes are not counted as fetched now).
  var rate: Double {
    Double(received - resumedAt) / max(ProgressFormat.seconds(started.duration(to: .now)), 1e-3)
  }

  private func status() -> String {
    let speed = "\(ProgressFormat.bytes(Int64(rate)))/s"
    guard let total, total > 0 else { return "\(ProgressFormat.bytes(received))  \(speed)" }
    let eta = rate > 0 ? Double(total - received) / rate : 0
    let percent = Int(100 * Double(received) / Double(total))
    return "\(percent)% \(ProgressFormat.bytes(received)) of \(ProgressFormat.bytes(total))  \(speed)"
      + "  ETA \(ProgressFormat.clock(eta))"
  }

  private func bar() -> String {
    let width = 24
    let filled = total.map { $0 > 0 ? Int(Int64(width) * min(received, $0) / $0) : width } ?? 0
    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    return "\(path) \(bar) \(status())"
  }

  private func line(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }
}
