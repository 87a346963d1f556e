import Foundation
import GRDB

/// Idempotency keys of the embedded catalog, in its `idempotency_keys` table, read and written
/// inside the create's own write transaction.
enum SQLiteIdempotency {
  /// The outcome of an earlier request under the same key (younger than a day), or nil.
  static func earlierOutcome(_ request: IdempotentRequest, _ db: Database) throws -> CreateOutcome? {
    let row = try Row.fetchOne(
      db, sql: "SELECT fingerprint, status, body FROM idempotency_keys WHERE key = ? AND created_at >= ?",
      arguments: [request.key, Date().timeIntervalSince1970 - IdempotentRequest.lifetime])
    guard let row else { return nil }
    return request.outcome(
      storedFingerprint: row["fingerprint"], answer: StoredAnswer(status: row["status"], body: row["body"]))
  }

  /// Keeps the answer of this create, and forgets keys older than a day.
  static func record(_ request: IdempotentRequest, inserted: Bool, _ db: Database) throws {
    let now = Date().timeIntervalSince1970
    try db.execute(
      sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [now - IdempotentRequest.lifetime])
    let answer = request.answer(created: inserted)
    try db.execute(
      sql: """
        INSERT OR REPLACE INTO idempotency_keys (key, fingerprint, status, body, created_at)
        VALUES (?, ?, ?, ?, ?)
        """, arguments: [request.key, request.fingerprint, answer.status, answer.body, now])
  }
}
