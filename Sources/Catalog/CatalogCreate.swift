import Foundation

/// An HTTP answer kept under an `Idempotency-Key`, replayed when the same create is retried.
public struct StoredAnswer: Sendable, Equatable {
  public var status: Int
  public var body: String

  public init(status: Int, body: String) {
    self.status = status
    self.body = body
  }
}

/// A create sent with an `Idempotency-Key`: the key, a fingerprint of the request (a retry must
/// send the same one), and the answers for both outcomes, stored in the catalog with the item so
/// that a retry reaching another replica gets the first answer.
public struct IdempotentRequest: Sendable {
  public var key: String
  public var fingerprint: String
  public var created: StoredAnswer
  public var conflict: StoredAnswer

  /// Keys are forgotten after a day, as clients and balancers retry within seconds.
  public static let lifetime: TimeInterval = 24 * 3600

  public init(key: String, fingerprint: String, created: StoredAnswer, conflict: StoredAnswer) {
    self.key = key
    self.fingerprint = fingerprint
    self.created = created
    self.conflict = conflict
  }

  /// The outcome when the key is already stored with `fingerprint` and `answer`: the first
  /// answer for the same request, `keyReused` for another request under the same key.
  public func outcome(storedFingerprint: String, answer: StoredAnswer) -> CreateOutcome {
    storedFingerprint == fingerprint ? .replayed(answer) : .keyReused
  }

  /// The answer to keep for a create that did (or did not) insert the item.
  public func answer(created inserted: Bool) -> StoredAnswer { inserted ? created : conflict }
}

/// What an atomic create did.
public enum CreateOutcome: Sendable, Equatable {
  /// The item was inserted.
  case created
  /// An item with this id existed: nothing was written.
  case exists
  /// The key was used before by the same request: its first answer.
  case replayed(StoredAnswer)
  /// The key was used before by another request.
  case keyReused
}
