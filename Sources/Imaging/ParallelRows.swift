import Foundation

/// Splits per-row image work across cores when there is enough of it to pay for the split.
public enum ParallelRows {
  /// Runs `body` over `rows` split into chunks on all cores, when there is enough work for
  /// the split to pay (a 640×480 photo's resize takes milliseconds; one core's share of it,
  /// a fraction). Each chunk gets a half-open row range; chunks must write disjoint memory.
  /// `workPerRow` is in rough operations, to size the chunks.
  public static func forEachChunk(rows: Int, workPerRow: Int, _ body: (Range<Int>) -> Void) {
    let minimumWorkPerChunk = 200_000
    let chunks = min(
      ProcessInfo.processInfo.activeProcessorCount, rows, max(1, rows * workPerRow / minimumWorkPerChunk))
    if chunks <= 1 { return body(0..<rows) }
    // The chunks write disjoint rows through pointers the closure captures, which Swift
    // cannot see as sendable; the unchecked box says so for it.
    withoutActuallyEscaping(body) { body in
      let shared = UncheckedSendable(body)
      DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        shared.value(rows * chunk / chunks..<rows * (chunk + 1) / chunks)
      }
    }
  }
}

/// A value handed to concurrent code that only touches disjoint parts of it.
private struct UncheckedSendable<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
