import Catalog

/// What a deployment tunes on a PostgreSQL catalog (`glimpse serve --store-…` flags).
public struct PostgresSettings: Sendable {
  public struct Timeouts: Sendable {
    /// Connecting (and the availability probe): a dead host is reported after this.
    public var connect: Duration
    /// One catalog call, waiting for a connection included: past it the call answers
    /// `.unavailable` (503) instead of holding the request. A bulk write gets this much per
    /// statement of 500 items.
    public var call: Duration
    /// PostgreSQL's own `statement_timeout`, so that an abandoned query stops on the server too
    /// (longer than a call: a statement of 500 items waits on index maintenance).
    public var statement: Duration

    public init(
      connect: Duration = .seconds(2), call: Duration = .seconds(5), statement: Duration = .seconds(30)
    ) {
      self.connect = connect
      self.call = call
      self.statement = statement
    }
  }

  /// Connections per server: each concurrent call holds one (budget: replicas × pool size,
  /// plus headroom, under PostgreSQL's `max_connections`).
  public var poolSize: Int
  /// HNSW candidates per search (`hnsw.ef_search`): more is slower and finds more of the true
  /// nearest neighbours.
  public var efSearch: Int
  public var timeouts: Timeouts
  /// How long opening waits for a database that cannot be reached yet (0: fail at once).
  public var waitAtStart: Duration
  /// A read replica (a standby, never migrated) for gets, lists, counts and searches; writes
  /// go to the primary. Reads right after a write may lag behind it by the replication delay.
  public var readURL: String?

  /// pgvector's default (40) trades recall for speed more than a catalog of images needs.
  public static let defaultEfSearch = 100

  public init(
    poolSize: Int = 10, efSearch: Int = PostgresSettings.defaultEfSearch, timeouts: Timeouts = Timeouts(),
    waitAtStart: Duration = .zero, readURL: String? = nil
  ) {
    self.readURL = readURL
    self.poolSize = poolSize
    self.efSearch = efSearch
    self.timeouts = timeouts
    self.waitAtStart = waitAtStart
  }

  func validate() throws {
    guard (1...10_000).contains(poolSize) else {
      throw CatalogError.invalidRequest("the pool size must be 1 to 10000")
    }
    guard (1...1000).contains(efSearch) else {
      throw CatalogError.invalidRequest("ef_search must be 1 to 1000")
    }
    for (name, value) in [
      ("connect", timeouts.connect), ("call", timeouts.call), ("statement", timeouts.statement),
    ]
    where value <= .zero {
      throw CatalogError.invalidRequest("the \(name) timeout must be positive")
    }
  }

  /// Settings sent when each connection opens rather than before each query. An iterative
  /// scan keeps walking the HNSW graph until it has `k` rows that pass the filter (and rows
  /// beyond `ef_search` when `k` is larger); pgvector older than 0.8 ignores it with a warning.
  func startupParameters(applicationName: String?) -> [(String, String)] {
    let statementMilliseconds = Int64(timeouts.statement / .milliseconds(1))
    var parameters = [
      ("hnsw.ef_search", String(efSearch)), ("hnsw.iterative_scan", "relaxed_order"),
      ("statement_timeout", String(statementMilliseconds)),
    ]
    parameters.append(("application_name", applicationName ?? "glimpse"))
    return parameters
  }
}
