import Foundation
import Hummingbird

/// JSON in and out: responses with ISO 8601 dates;
/// requests decoded strictly (unknown fields are refused, so a typo is never ignored).
enum JSONBody {
  /// `snakeCase` converts Swift property names (`memoryTotalBytes` → `memory_total_bytes`)
  /// for types shared with the CLI that have no explicit coding keys.
  static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, snakeCase: Bool = false)
    -> Response
  {
    response(
      data: RequestTimings.measureSync("json") { encoded(value, snakeCase: snakeCase) }, status: status)
  }

  /// A response with an already encoded JSON body.
  static func response(data: Data, status: HTTPResponse.Status) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json; charset=utf-8"],
      body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
  }

  /// `value` as the API's JSON.
  static func encoded(_ value: some Encodable, snakeCase: Bool = false) -> Data {
    let encoder = JSONEncoder()
    if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return (try? encoder.encode(value))
      ?? Data(#"{"error":{"code":"internal","message":"encoding failed"}}"#.utf8)
  }

  /// Decodes `T` from a JSON object whose keys must all be in `T.fields`.
  static func decode<T: StrictDecodable>(_ type: T.Type, from data: Data) throws -> T {
    guard !data.isEmpty else { throw APIError.badRequest("empty body: a JSON object was expected") }
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    } catch {
      throw APIError(.badRequest, "invalid_json", "malformed JSON: \(jsonProblem(error))")
    }
    guard let dictionary = object as? [String: Any] else {
      throw APIError.unprocessable("the body must be a JSON object")
    }
    let unknown = Set(dictionary.keys).subtracting(T.fields).sorted()
    guard unknown.isEmpty else {
      throw APIError.unprocessable(
        "unknown field\(unknown.count > 1 ? "s" : "") \(unknown.map { "'\($0)'" }.joined(separator: ", ")) (accepted: \(T.fields.sorted().joined(separator: ", ")))"
      )
    }
    do {
      return try JSONDecoder().decode(T.self, from: data)
    } catch let error as DecodingError {
      throw APIError.unprocessable(describe(error))
    }
  }

  private static func jsonProblem(_ error: any Error) -> String {
    let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
    return text ?? "not valid JSON"
  }

  /// A decoding error as a user reads it: which field, what was wrong.
  static func describe(_ error: DecodingError) -> String {
    func path(_ codingPath: [any CodingKey]) -> String {
      codingPath.isEmpty
        ? "the body"
        : "'" + codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
          + "'"
    }
    switch error {
    case .typeMismatch(let type, let context): return "\(path(context.codingPath)) must be of type \(type)"
    case .valueNotFound(_, let context): return "\(path(context.codingPath)) must not be null"
    case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
    case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription)"
    @unknown default: return "invalid JSON body"
    }
  }
}

/// A request body type that lists the fields it accepts.
protocol StrictDecodable: Decodable {
  static var fields: Set<String> { get }
}
