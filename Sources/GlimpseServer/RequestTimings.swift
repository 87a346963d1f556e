import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import Services

/// Where one request's time went, sent back in a `Server-Timing` header (W3C Server Timing):
/// `body;dur=0.12, decode;dur=1.31, prepare;dur=0.95, clip-visual-run;dur=1.92;desc="batch of 3",
/// clip-visual;dur=2.40, json;dur=0.08, total;dur=5.02`.
/// Apps see the body's arrival, decoding, preparation, the time in a model's queue and run
/// (`<model>` holds `<model>-run`), a search, the response's encoding, and the whole, without
/// a profiler; durations are milliseconds. bench/breakdown.py adds them up.
final class RequestTimings: Sendable {
  /// The timings of the request the current task serves (set by `ServerTimingMiddleware`).
  @TaskLocal static var current: RequestTimings?

  private struct Entry {
    var name: String
    var duration: Duration
    var description: String?
  }

  private let entries = NIOLockedValueBox<[Entry]>([])

  func record(_ name: String, _ duration: Duration, description: String? = nil) {
    entries.withLockedValue { $0.append(Entry(name: name, duration: duration, description: description)) }
  }

  /// Times `body` as `name` when the current request is timed.
  static func measure<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
    guard let timings = current else { return try await body() }
    let start = ContinuousClock.now
    defer { timings.record(name, start.duration(to: .now)) }
    return try await body()
  }

  /// Times synchronous `body` as `name` when the current request is timed.
  static func measureSync<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
    guard let timings = current else { return try body() }
    let start = ContinuousClock.now
    defer { timings.record(name, start.duration(to: .now)) }
    return try body()
  }

  /// A batcher's report of the run that held this request, recorded as `<model>-run` with
  /// the run's size (the time in the batcher, queue and run, is `<model>`).
  static func runReport(_ model: String) -> BatchRunReport? {
    guard let timings = current else { return nil }
    return { run, size in timings.record("\(model)-run", run, description: "batch of \(size)") }
  }

  var headerValue: String {
    entries.withLockedValue { $0 }.map { entry in
      var item = "\(entry.name);dur=\(String(format: "%.2f", entry.duration.seconds * 1000))"
      if let description = entry.description { item += ";desc=\"\(description)\"" }
      return item
    }.joined(separator: ", ")
  }
}

/// Times every request and adds its `Server-Timing` header.
struct ServerTimingMiddleware<Context: RequestContext>: RouterMiddleware {
  static var headerName: HTTPField.Name { HTTPField.Name("Server-Timing")! }

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    let timings = RequestTimings()
    let start = ContinuousClock.now
    var response = try await RequestTimings.$current.withValue(timings) {
      try await next(request, context)
    }
    timings.record("total", start.duration(to: .now))
    response.headers[Self.headerName] = timings.headerValue
    return response
  }
}
