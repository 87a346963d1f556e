import ArgumentParser
import Foundation
import GlimpseServer
import NIOCore

/// A flag's value, else its `GLIMPSE_*` variable's, parsed; a bad value names its source.
struct SettingReader {
  let environment = ProcessInfo.processInfo.environment

  func value<T: LosslessStringConvertible>(_ flag: T?, _ variable: String) throws -> T? {
    if let flag { return flag }
    guard let text = environment[variable] else { return nil }
    guard let parsed = T(text) else { throw ValidationError("\(variable)='\(text)' is not a valid value") }
    return parsed
  }

  /// Like `value`, and refused unless above zero.
  func positive<T: LosslessStringConvertible & Numeric & Comparable>(
    _ flag: T?, _ variable: String, _ name: String
  )
    throws -> T?
  {
    guard let value = try value(flag, variable) else { return nil }
    guard value > 0 else { throw ValidationError("--\(name) must be positive") }
    return value
  }

  func seconds(_ flag: Double?, _ variable: String, _ name: String) throws -> TimeAmount? {
    try positive(flag, variable, name).map { .nanoseconds(Int64($0 * 1e9)) }
  }

  func list(_ flag: [String], _ variable: String) -> [String] {
    (flag.isEmpty ? (environment[variable] ?? "").split(separator: ",").map(String.init) : flag)
      .filter { !$0.isEmpty }
  }

  func isOn(_ flag: Bool, _ variable: String) -> Bool {
    flag || ["1", "true", "yes"].contains(environment[variable]?.lowercased() ?? "")
  }
}

/// The server's request limits; each flag falls back to a `GLIMPSE_*` variable.
struct ServeLimitOptions: ParsableArguments {
  @Option(help: "Largest request body in MB (env GLIMPSE_MAX_BODY_MB; default 20).")
  var maxBodyMb: Double?
  @Option(help: "Largest decoded image in pixels (env GLIMPSE_MAX_PIXELS; default 50000000).")
  var maxPixels: Int?
  @Option(help: "Most images or texts per request and per model run (env GLIMPSE_MAX_BATCH; default 32).")
  var maxBatch: Int?
  @Option(help: "Longest wait, in ms, for a model run to fill (env GLIMPSE_MAX_WAIT_MS; default 2).")
  var maxWaitMs: Double?
  @Option(help: "Longest text in characters (env GLIMPSE_MAX_TEXT_LENGTH; default 1000).")
  var maxTextLength: Int?
  @Option(help: "Request time limit in seconds (env GLIMPSE_REQUEST_TIMEOUT_S; default 30).")
  var requestTimeoutS: Double?
  @Option(help: "Most inputs waiting per model before 429 (env GLIMPSE_QUEUE_LENGTH; default 64).")
  var queueLength: Int?
  @Option(
    help:
      "Decoded megapixels all requests may hold at once, else 429 (env GLIMPSE_MAX_INFLIGHT_MEGAPIXELS; default 400)."
  )
  var maxInflightMegapixels: Int?
  @Option(help: "Most frames per second one AR stream processes (env GLIMPSE_AR_MAX_FPS; default 30).")
  var arMaxFps: Double?
  @OptionGroup var thumbnails: ThumbnailOptions
  @OptionGroup var access: ServeAccessOptions
  @OptionGroup var connections: ServeConnectionOptions

  func serverConfiguration(host: String?, port: Int?) throws -> ServerConfiguration {
    let reader = SettingReader()
    var configuration = ServerConfiguration()
    configuration.host = try reader.value(host, "GLIMPSE_HOST") ?? configuration.host
    configuration.port = try reader.positive(port, "GLIMPSE_PORT", "port") ?? configuration.port
    configuration.limits = try requestLimits(reader)
    if let milliseconds = try reader.value(maxWaitMs, "GLIMPSE_MAX_WAIT_MS") {
      guard milliseconds >= 0 else { throw ValidationError("--max-wait-ms must not be negative") }
      configuration.maxWait = .microseconds(Int64(milliseconds * 1000))
    }
    try access.apply(to: &configuration, reader)
    try connections.apply(to: &configuration, reader)
    configuration.thumbnails = thumbnails.enabled
    return configuration
  }

  private func requestLimits(_ reader: SettingReader) throws -> RequestLimits {
    var limits = RequestLimits()
    if let megabytes = try reader.positive(maxBodyMb, "GLIMPSE_MAX_BODY_MB", "max-body-mb") {
      limits.maxBodyBytes = Int(megabytes * 1024 * 1024)
    }
    limits.maxPixels = try reader.positive(maxPixels, "GLIMPSE_MAX_PIXELS", "max-pixels") ?? limits.maxPixels
    limits.maxBatch = try reader.positive(maxBatch, "GLIMPSE_MAX_BATCH", "max-batch") ?? limits.maxBatch
    limits.maxTextLength =
      try reader.positive(maxTextLength, "GLIMPSE_MAX_TEXT_LENGTH", "max-text-length") ?? limits.maxTextLength
    if let seconds = try reader.positive(requestTimeoutS, "GLIMPSE_REQUEST_TIMEOUT_S", "request-timeout-s") {
      limits.requestTimeout = .milliseconds(Int64(seconds * 1000))
    }
    limits.queueLength =
      try reader.positive(queueLength, "GLIMPSE_QUEUE_LENGTH", "queue-length") ?? limits.queueLength
    limits.maxInflightMegapixels =
      try reader.positive(maxInflightMegapixels, "GLIMPSE_MAX_INFLIGHT_MEGAPIXELS", "max-inflight-megapixels")
      ?? limits.maxInflightMegapixels
    limits.arMaxFramesPerSecond =
      try reader.positive(arMaxFps, "GLIMPSE_AR_MAX_FPS", "ar-max-fps") ?? limits.arMaxFramesPerSecond
    return limits
  }
}

/// Keys, origins and rate limits (docs/security.md).
struct ServeAccessOptions: ParsableArguments {
  @Option(
    name: .customLong("api-key"),
    help:
      "API key with every scope; repeatable (env GLIMPSE_API_KEYS, comma-separated). Prefer --api-key-file.")
  var apiKeys: [String] = []
  @Option(help: "File of hashed API keys with scopes, re-read on SIGHUP (env GLIMPSE_API_KEY_FILE).")
  var apiKeyFile: String?
  @Flag(help: "Reads (embed, search, detect, items) need a key too (env GLIMPSE_REQUIRE_KEY_FOR_READS=1).")
  var requireKeyForReads = false
  @Option(
    name: .customLong("cors-origin"),
    help: "Origin allowed by CORS, * for any; repeatable (env GLIMPSE_CORS_ORIGINS, comma-separated).")
  var corsOrigins: [String] = []
  @Option(
    name: .customLong("allow-image-urls"),
    help: ArgumentHelp(
      "Hosts whose image URLs /v1/embeddings may fetch, comma-separated or repeated (env GLIMPSE_ALLOW_IMAGE_URLS; default none).",
      valueName: "hosts"))
  var imageURLHosts: [String] = []
  @Option(
    help:
      "Requests per second per client: its API key, else its address (env GLIMPSE_RATE_LIMIT; default off).")
  var rateLimit: Double?
  @Option(
    help: "Requests a client may send at once above the rate (env GLIMPSE_RATE_BURST; default 2 × rate).")
  var rateBurst: Int?

  func apply(to configuration: inout ServerConfiguration, _ reader: SettingReader) throws {
    configuration.apiKeys = Set(reader.list(apiKeys, "GLIMPSE_API_KEYS"))
    configuration.apiKeyFile = try reader.value(apiKeyFile, "GLIMPSE_API_KEY_FILE")
    configuration.requireKeyForReads = reader.isOn(requireKeyForReads, "GLIMPSE_REQUIRE_KEY_FOR_READS")
    configuration.corsOrigins = reader.list(corsOrigins, "GLIMPSE_CORS_ORIGINS")
    configuration.imageURLHosts = Set(
      reader.list(imageURLHosts, "GLIMPSE_ALLOW_IMAGE_URLS").flatMap { $0.split(separator: ",") }
        .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty })
    if let rate = try reader.positive(rateLimit, "GLIMPSE_RATE_LIMIT", "rate-limit") {
      let burst = try reader.positive(rateBurst, "GLIMPSE_RATE_BURST", "rate-burst") ?? max(1, Int(rate * 2))
      configuration.rateLimit = RateLimit(requestsPerSecond: rate, burst: burst)
    }
  }
}

/// Connections and transport: the cap, timeouts and TLS.
struct ServeConnectionOptions: ParsableArguments {
  @Option(
    help:
      "Most open connections; at the cap the longest-idle one is closed (env GLIMPSE_MAX_CONNECTIONS; default from the open-file limit, at most 4096)."
  )
  var maxConnections: Int?
  @Option(
    help: "Seconds a connection may stay idle between requests (env GLIMPSE_IDLE_TIMEOUT_S; default 60).")
  var idleTimeoutS: Double?
  @Option(help: "Seconds a request's headers may take to arrive (env GLIMPSE_HEADER_TIMEOUT_S; default 10).")
  var headerTimeoutS: Double?
  @Option(help: "Seconds a request body may take to arrive (env GLIMPSE_BODY_TIMEOUT_S; default 60).")
  var bodyTimeoutS: Double?
  @Option(help: "TLS certificate chain, PEM (env GLIMPSE_TLS_CERT); with --tls-key, serves HTTPS.")
  var tlsCert: String?
  @Option(help: "TLS private key, PEM (env GLIMPSE_TLS_KEY).")
  var tlsKey: String?

  func apply(to configuration: inout ServerConfiguration, _ reader: SettingReader) throws {
    var limits = configuration.connections
    limits.maxBodyBytes = configuration.limits.maxBodyBytes
    limits.maxConnections =
      try reader.positive(maxConnections, "GLIMPSE_MAX_CONNECTIONS", "max-connections")
      ?? ConnectionLimits.defaultMaxConnections(openFileLimit: FileLimit.raiseToHardLimit())
    limits.idleTimeout =
      try reader.seconds(idleTimeoutS, "GLIMPSE_IDLE_TIMEOUT_S", "idle-timeout-s") ?? limits.idleTimeout
    limits.headerTimeout =
      try reader.seconds(headerTimeoutS, "GLIMPSE_HEADER_TIMEOUT_S", "header-timeout-s")
      ?? limits.headerTimeout
    limits.bodyTimeout =
      try reader.seconds(bodyTimeoutS, "GLIMPSE_BODY_TIMEOUT_S", "body-timeout-s") ?? limits.bodyTimeout
    configuration.connections = limits
    let cert = try reader.value(tlsCert, "GLIMPSE_TLS_CERT")
    let key = try reader.value(tlsKey, "GLIMPSE_TLS_KEY")
    switch (cert, key) {
    case (let cert?, let key?): configuration.tls = TLSFiles(certificatePath: cert, privateKeyPath: key)
    case (nil, nil): break
    default: throw ValidationError("--tls-cert and --tls-key go together")
    }
  }
}

/// The process's open-file limit: the soft limit is raised to the hard one at start, so that
/// connections are bounded by `--max-connections` rather than by an accept() failing.
enum FileLimit {
  static func raiseToHardLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
    if limit.rlim_cur < limit.rlim_max {
      var raised = limit
      raised.rlim_cur = limit.rlim_max
      if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
    }
    return Int(clamping: limit.rlim_cur)
  }
}

/// `--no-thumbnails`, for `index` and `serve`: items created from an image keep no thumbnail.
struct ThumbnailOptions: ParsableArguments {
  @Flag(help: "Keep no thumbnail of the items' images (env GLIMPSE_NO_THUMBNAILS=1).")
  var noThumbnails = false

  var enabled: Bool { !SettingReader().isOn(noThumbnails, "GLIMPSE_NO_THUMBNAILS") }
}
