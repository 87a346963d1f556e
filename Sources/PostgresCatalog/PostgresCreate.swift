import Catalog
import PostgresNIO

/// Atomic creates with idempotency keys, inside one transaction.
///
/// The key is claimed first (an `idempotency_keys` row): a concurrent create under the same
/// key waits on that row until this transaction ends, then reads its answer. The item is then
/// inserted with ON CONFLICT DO NOTHING, which also waits for a concurrent insert of the same
/// id and then does nothing: of concurrent creates of one id exactly one inserts a row.
enum PostgresCreate {
  static func run(
    _ item: CatalogItem, idempotency: IdempotentRequest?, _ connection: PostgresConnection, logger: Logger
  ) async throws -> CreateOutcome {
    if let idempotency, let earlier = try await claim(idempotency, connection, logger: logger) {
      return earlier
    }
    let rows = try await connection.query(
      try PostgresUpsert.query([item][...], replace: false), logger: logger)
    var inserted = false
    for try await _ in rows.decode(String.self) { inserted = true }
    if inserted { try await PostgresThumbnails.write([item], connection, logger: logger) }
    if let idempotency {
      let answer = idempotency.answer(created: inserted)
      try await connection.query(
        "UPDATE idempotency_keys SET status = \(answer.status), body = \(answer.body) WHERE key = \(idempotency.key)",
        logger: logger)
    }
    return inserted ? .created : .exists
  }

  /// Claims the key (nil), or returns the outcome of the earlier request that holds it. A key
  /// older than `IdempotentRequest.lifetime` is taken over as if new.
  private static func claim(_ request: IdempotentRequest, _ connection: PostgresConnection, logger: Logger)
    async throws -> CreateOutcome?
  {
    let lifetime = Int(IdempotentRequest.lifetime)
    let claimed = try await connection.query(
      """
      INSERT INTO idempotency_keys (key, fingerprint, status, body)
      VALUES (\(request.key), \(request.fingerprint), 0, '')
      ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, status = 0, body = '', created_at = now()
        WHERE idempotency_keys.created_at < now() - make_interval(secs => \(lifetime))
      RETURNING key
      """, logger: logger)
    for try await _ in claimed.decode(String.self) { return nil }
    let rows = try await connection.query(
      "SELECT fingerprint, status, body FROM idempotency_keys WHERE key = \(request.key)", logger: logger)
    for try await (fingerprint, status, body) in rows.decode((String, Int, String).self) {
      return request.outcome(storedFingerprint: fingerprint, answer: StoredAnswer(status: status, body: body))
    }
    throw CatalogError.storage("idempotency key '\(request.key)' vanished while it was read")
  }

  /// Forgets expired keys; called now and then (each claim takes over an expired key anyway,
  /// this only bounds the table's size).
  static func purgeExpired(_ connection: PostgresConnection, logger: Logger) async throws {
    try await connection.query(
      "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => \(Int(IdempotentRequest.lifetime)))",
      logger: logger)
  }
}
