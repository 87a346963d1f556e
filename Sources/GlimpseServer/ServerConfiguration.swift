import Foundation

/// Everything `glimpse serve` can be told: where to listen, limits, keys, CORS.
public struct ServerConfiguration: Sendable {
  public var host = "127.0.0.1"
  public var port = 8080
  public var limits = RequestLimits()
  /// Keys given in plain text (`--api-key`), each with every scope; with no key at all the
  /// server is open. Sent as `Authorization: Bearer KEY` or `X-API-Key: KEY`.
  public var apiKeys: Set<String> = []
  /// A file of hashed keys with scopes (`APIKeyFile`), re-read on SIGHUP.
  public var apiKeyFile: String?
  /// Whether embeddings, searches, detection and item reads need a key too.
  public var requireKeyForReads = false
  /// Origins allowed by CORS (`*` for any); empty: no CORS headers, and browser pages may
  /// write and open the AR stream only from the server's own origin.
  public var corsOrigins: [String] = []
  /// Connection cap and timeouts (`ConnectionGuardHandler`).
  public var connections = ConnectionLimits()
  /// Requests per second allowed to one client (its API key, else its address); nil: no limit.
  public var rateLimit: RateLimit?
  /// TLS certificate and key; nil serves plain HTTP.
  public var tls: TLSFiles?
  /// Hosts whose image URLs `POST /v1/embeddings` may fetch (`--allow-image-urls`); empty:
  /// image URLs are refused and the server fetches nothing.
  public var imageURLHosts: Set<String> = []
  /// Longest wait of the first request in a model run for others to join it.
  public var maxWait: Duration = .milliseconds(2)
  /// Whether items created from an image keep a thumbnail (`--no-thumbnails` turns it off).
  public var thumbnails = true

  public init() {}
}

/// Bounds on what one request may ask for. Beyond them the server answers 413, 400 or 429
/// rather than spending memory or time it does not have.
public struct RequestLimits: Sendable {
  /// Largest request body (HTTP 413 beyond).
  public var maxBodyBytes = 20 * 1024 * 1024
  /// Largest decoded image, in pixels (HTTP 413 beyond): a 50 MP cap stops decompression bombs.
  public var maxPixels = 50_000_000
  /// Most images or texts in one request, and in one model run.
  public var maxBatch = 32
  /// Longest text, in characters.
  public var maxTextLength = 1000
  /// Longest a request may take before it is answered 504.
  public var requestTimeout: Duration = .seconds(30)
  /// Most inputs waiting per model; beyond it 429 with `Retry-After`.
  public var queueLength = 64
  /// Largest `k` of a search, and `limit` of a listing.
  public var maxResults = 1000
  /// Decoded megapixels all requests together may hold at once; beyond, 429 with
  /// `Retry-After`. Bounds memory under many concurrent large uploads.
  public var maxInflightMegapixels = 400
  /// Most frames one AR stream processes per second; faster frames are dropped and counted.
  public var arMaxFramesPerSecond: Double = 30

  public init() {}
}
