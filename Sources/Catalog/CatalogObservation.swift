import Foundation

/// What a catalog says about itself for `/metrics` and `/v1/hardware`.
public struct CatalogStatus: Sendable, Equatable, Encodable {
  /// `sqlite` or `postgresql`.
  public var kind: String
  public var available: Bool
  /// Why the catalog is unavailable (absent while it is available).
  public var problem: String?
  /// The pool's size, calls holding or waiting for a connection, and outages seen since the
  /// start (PostgreSQL only).
  public var poolSize: Int?
  public var callsInFlight: Int?
  public var outages: Int?

  public init(
    kind: String, available: Bool = true, problem: String? = nil, poolSize: Int? = nil,
    callsInFlight: Int? = nil, outages: Int? = nil
  ) {
    self.kind = kind
    self.available = available
    self.problem = problem
    self.poolSize = poolSize
    self.callsInFlight = callsInFlight
    self.outages = outages
  }

  enum CodingKeys: String, CodingKey {
    case kind, available, problem, outages
    case poolSize = "pool_size"
    case callsInFlight = "calls_in_flight"
  }
}

/// Receives every catalog call's operation (`get`, `search`, `create`…), duration, and the kind
/// of error it ended with (nil on success): `unavailable`, `storage`, `timeout`…
public typealias CatalogCallObserver =
  @Sendable (_ operation: String, _ seconds: Double, _ errorKind: String?) ->
  Void

extension CatalogError {
  /// A short label for metrics.
  public var kind: String {
    switch self {
    case .dimensionMismatch, .modelMismatch, .invalidVector, .invalidMetadata, .unknownFilterField,
      .invalidRequest:
      "invalid_request"
    case .storage: "storage"
    case .unavailable: "unavailable"
    case .locked: "locked"
    }
  }
}
