/// Latency samples and the percentiles reported by `glimpse bench`.
struct LatencySummary: Encodable {
  var samples: Int
  var p50Milliseconds: Double
  var p95Milliseconds: Double
  var meanMilliseconds: Double

  init(_ durations: [Duration]) {
    let milliseconds = durations.map { $0 / .milliseconds(1) }.sorted()
    samples = milliseconds.count
    p50Milliseconds = Self.percentile(milliseconds, 0.50)
    p95Milliseconds = Self.percentile(milliseconds, 0.95)
    meanMilliseconds = milliseconds.isEmpty ? 0 : milliseconds.reduce(0, +) / Double(milliseconds.count)
  }

  /// Nearest-rank percentile of sorted values.
  static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
  }
}

/// Runs `body` `warmup` times untimed, then `iterations` times timed.
func measure(warmup: Int, iterations: Int, _ body: () throws -> Void) rethrows -> LatencySummary {
  for _ in 0..<warmup { try body() }
  var durations: [Duration] = []
  let clock = ContinuousClock()
  for _ in 0..<iterations { durations.append(try clock.measure(body)) }
  return LatencySummary(durations)
}
