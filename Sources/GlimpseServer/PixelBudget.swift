import Foundation
import NIOConcurrencyHelpers

/// Bounds the decoded pixels that all requests hold at once (`--max-inflight-megapixels`):
/// a request reserves an image's decoded size, read from its header, before decoding it,
/// and gives it back when it ends. Many concurrent 12 MP uploads therefore get 429 instead of
/// growing the server's memory without bound.
final class PixelBudget: Sendable {
  /// The reservations of one request (or one AR frame), returned together when it ends.
  final class Ledger: Sendable {
    fileprivate let pixels = NIOLockedValueBox(0)
  }

  @TaskLocal static var ledger: Ledger?

  let capacity: Int
  private let used = NIOLockedValueBox(0)

  init(megapixels: Int) { capacity = megapixels * 1_000_000 }

  var inUse: Int { used.withLockedValue { $0 } }

  /// Reserves pixels for the current request (a no-op outside `withLedger`), or throws 429:
  /// callable from any thread (the decoder calls it from the blocking pool once it has read
  /// the header, where the request's task-local is not set).
  func reserver() -> @Sendable (Int) throws -> Void {
    let ledger = Self.ledger
    return { [self] pixels in try reserve(pixels, ledger: ledger) }
  }

  private func reserve(_ pixels: Int, ledger: Ledger?) throws {
    guard let ledger else { return }
    let granted = used.withLockedValue { used -> Bool in
      guard used + pixels <= capacity else { return false }
      used += pixels
      return true
    }
    guard granted else {
      var error = APIError(
        .tooManyRequests, "busy",
        "the server is decoding \(capacity / 1_000_000) megapixels of images already; retry shortly")
      error.headers[.retryAfter] = "1"
      throw error
    }
    ledger.pixels.withLockedValue { $0 += pixels }
  }

  /// Runs `body` with a ledger; everything it reserved is returned when it ends.
  func withLedger<T: Sendable>(_ body: () async throws -> T) async throws -> T {
    let ledger = Ledger()
    defer {
      let held = ledger.pixels.withLockedValue { $0 }
      used.withLockedValue { $0 -= held }
    }
    return try await Self.$ledger.withValue(ledger) { try await body() }
  }
}
