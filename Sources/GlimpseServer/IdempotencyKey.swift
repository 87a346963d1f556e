import Catalog
import Foundation
import HTTPTypes
import Hummingbird

/// The `Idempotency-Key` header of `POST /v1/items`: a create retried with the same key (by a
/// client, or by a balancer after a replica died mid-request) gets the first answer, status and
/// body, instead of a 409 for the item it created itself.
enum IdempotencyKey {
  static let header = HTTPField.Name("Idempotency-Key")!
  /// Says that an answer is a replay of the first one.
  static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

  /// The key sent, if any: 1 to 255 visible ASCII characters.
  static func key(in request: Request) throws -> String? {
    guard let key = request.headers[header] else { return nil }
    guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
      throw APIError.invalidParameter("Idempotency-Key must be 1 to 255 visible ASCII characters")
    }
    return key
  }

  /// What the catalog keeps for a create under `key`: both possible answers, and a fingerprint
  /// of what was asked (`request` is the parsed body, without a generated id).
  static func request(
    key: String, fingerprint request: some Encodable, created: some Encodable, conflict: APIError
  ) -> IdempotentRequest {
    IdempotentRequest(
      key: key, fingerprint: ContentHash.sha256Hex(JSONBody.encoded(request)),
      created: StoredAnswer(status: 201, body: String(decoding: JSONBody.encoded(created), as: UTF8.self)),
      conflict: StoredAnswer(
        status: Int(conflict.status.code),
        body: String(decoding: JSONBody.encoded(conflict.body), as: UTF8.self)))
  }

  /// The first answer, again.
  static func replay(_ answer: StoredAnswer) -> Response {
    var response = JSONBody.response(
      data: Data(answer.body.utf8), status: HTTPResponse.Status(code: answer.status))
    response.headers[replayedHeader] = "true"
    return response
  }

  static let reused = APIError(
    .unprocessableContent, "idempotency_key_reused",
    "this Idempotency-Key was used with another request: use a new key for each new create")
}
