import Foundation
import Hardware
import Hummingbird
import NIOConcurrencyHelpers

/// Requests per second allowed to one client, with a burst allowance (`--rate-limit`,
/// `--rate-burst`).
public struct RateLimit: Sendable, Equatable {
  public var requestsPerSecond: Double
  public var burst: Int

  public init(requestsPerSecond: Double, burst: Int) {
    self.requestsPerSecond = requestsPerSecond
    self.burst = burst
  }
}

/// A token bucket per client: each request takes a token; tokens come back at the rate, up to
/// the burst. A client whose bucket is empty is told when the next token comes.
final class RateLimiter: Sendable {
  private struct Bucket {
    var tokens: Double
    var updated: ContinuousClock.Instant
  }

  let limit: RateLimit
  private let buckets = NIOLockedValueBox<[String: Bucket]>([:])
  /// Buckets kept before full ones are forgotten (a full bucket is the same as none).
  private let maxTracked = 10_000

  init(_ limit: RateLimit) { self.limit = limit }

  /// nil when `client` may proceed, else how long until it may.
  func admit(_ client: String, now: ContinuousClock.Instant = .now) -> Duration? {
    buckets.withLockedValue { buckets in
      var bucket = buckets[client] ?? Bucket(tokens: Double(limit.burst), updated: now)
      let elapsed = bucket.updated.duration(to: now)
      let refill = elapsed.seconds * limit.requestsPerSecond
      bucket.tokens = min(Double(limit.burst), bucket.tokens + refill)
      bucket.updated = now
      defer {
        buckets[client] = bucket
        if buckets.count > maxTracked { forgetFull(&buckets) }
      }
      guard bucket.tokens >= 1 else {
        return .milliseconds(Int64(((1 - bucket.tokens) / limit.requestsPerSecond * 1000).rounded(.up)))
      }
      bucket.tokens -= 1
      return nil
    }
  }

  private func forgetFull(_ buckets: inout [String: Bucket]) {
    let full = Double(limit.burst)
    buckets = buckets.filter { $0.value.tokens < full }
  }
}

/// Applies the rate limit per API key (when the request carries a valid one) or per client
/// address; health probes are never limited.
struct RateLimitMiddleware: RouterMiddleware {
  let limiter: RateLimiter
  let access: AccessControl

  func handle(
    _ request: Request, context: GlimpseRequestContext,
    next: (Request, GlimpseRequestContext) async throws -> Response
  ) async throws -> Response {
    guard !["/healthz", "/readyz"].contains(request.uri.path) else { return try await next(request, context) }
    if let wait = limiter.admit(client(request, context: context)) {
      let seconds = max(1, Int(wait.seconds.rounded(.up)))
      var error = APIError(
        .tooManyRequests, "rate_limited",
        "over \(limiter.limit.requestsPerSecond) requests per second for this client; retry in \(seconds) s")
      error.headers[.retryAfter] = "\(seconds)"
      throw error
    }
    return try await next(request, context)
  }

  private func client(_ request: Request, context: GlimpseRequestContext) -> String {
    if let presented = AccessControl.presentedKey(request.headers), let key = access.keys.match(presented) {
      return "key:\(key.name)"
    }
    return "address:\(context.remoteAddress?.ipAddress ?? "unknown")"
  }
}
