import Foundation

/// What happened to one file during `glimpse index`.
enum IndexOutcome: Sendable {
  /// Embedded (or its embedding reused from an identical file) and committed to the store.
  case stored(id: String, reusedEmbedding: Bool)
  /// Already stored with the same content; `metadataUpdated` when only its metadata changed.
  case unchanged(id: String, metadataUpdated: Bool)
  case failed(path: String, reason: String)
}

/// Reports `glimpse index` progress: a bar with rate and ETA on a terminal, one plain line
/// (or JSON line) per file otherwise. A `stored` line is written only after the store has
/// committed that file, so a killed run has never reported more than it kept.
final class IndexProgress {
  private let total: Int
  private let interactive: Bool
  private let json: Bool
  private let start = ContinuousClock.now
  private var lastDraw = ContinuousClock.now - .seconds(1)
  private(set) var stored = 0
  private(set) var reused = 0
  private(set) var unchanged = 0
  private(set) var metadataUpdated = 0
  private(set) var failures: [(path: String, reason: String)] = []

  init(total: Int, json: Bool) {
    self.total = total
    self.json = json
    interactive = !json && isatty(STDERR_FILENO) != 0
  }

  var done: Int { stored + unchanged + failures.count }

  func record(_ outcome: IndexOutcome) {
    switch outcome {
    case .stored(_, let reusedEmbedding):
      stored += 1
      if reusedEmbedding { reused += 1 }
    case .unchanged(_, let updated):
      unchanged += 1
      if updated { metadataUpdated += 1 }
    case .failed(let path, let reason):
      failures.append((path, reason))
    }
    if interactive {
      if case .failed(let path, let reason) = outcome { printError("\r\u{1B}[Kfailed \(path): \(reason)") }
      drawBar()
    } else {
      writeLine(outcome)
    }
  }

  private func writeLine(_ outcome: IndexOutcome) {
    // FileHandle writes are unbuffered: each line is out before the next file starts.
    let line: String
    switch outcome {
    case .stored(let id, let reusedEmbedding):
      line =
        json ? jsonLine(["event": "stored", "id": id]) : "stored \(id)\(reusedEmbedding ? " (reused)" : "")"
    case .unchanged(let id, let updated):
      line =
        json
        ? jsonLine(["event": updated ? "metadata-updated" : "unchanged", "id": id])
        : "skipped \(id) (\(updated ? "unchanged image, metadata updated" : "unchanged"))"
    case .failed(let path, let reason):
      line =
        json ? jsonLine(["event": "failed", "path": path, "reason": reason]) : "failed \(path): \(reason)"
    }
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
  }

  private func jsonLine(_ fields: [String: String]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(fields)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  private func drawBar() {
    let now = ContinuousClock.now
    guard done == total || lastDraw.duration(to: now) > .milliseconds(100) else { return }
    lastDraw = now
    let width = 30
    let filled = total == 0 ? width : width * done / total
    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    let rate = Double(done) / max(ProgressFormat.seconds(start.duration(to: now)), 1e-3)
    let eta = rate > 0 ? Double(total - done) / rate : 0
    let text =
      "\r\u{1B}[K\(bar) \(done)/\(total)  \(String(format: "%.1f", rate)) files/s  ETA \(ProgressFormat.clock(eta))"
    FileHandle.standardError.write(Data(text.utf8))
  }

  /// The closing summary, on standard error (standard output stays one record per file).
  func finish() {
    if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    let elapsed = ProgressFormat.seconds(start.duration(to: .now))
    var lines = [
      "indexed \(stored) (\(reused) reused an identical file's embedding), skipped \(unchanged) unchanged"
        + " (\(metadataUpdated) with new metadata), failed \(failures.count), in \(String(format: "%.1f", elapsed)) s"
    ]
    let reasons = Dictionary(grouping: failures, by: \.reason)
    for (reason, files) in reasons.sorted(by: { $0.value.count > $1.value.count }) {
      lines.append("  \(files.count) failed: \(reason) (e.g. \(files[0].path))")
    }
    if json {
      let summary = [
        "event": "summary", "indexed": "\(stored)", "skipped": "\(unchanged)", "failed": "\(failures.count)",
      ]
      FileHandle.standardOutput.write(Data((jsonLine(summary) + "\n").utf8))
    }
    printError(lines.joined(separator: "\n"))
  }
}
