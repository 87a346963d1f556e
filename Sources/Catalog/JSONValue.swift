import Foundation

/// A JSON value, for item metadata (a JSON object) and metadata filters.
public enum JSONValue: Codable, Sendable, Hashable, CustomStringConvertible {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  public init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case .bool(let value): try container.encode(value)
    case .number(let value): try container.encode(value)
    case .string(let value): try container.encode(value)
    case .array(let value): try container.encode(value)
    case .object(let value): try container.encode(value)
    }
  }

  public var description: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
  }

  /// Parses a JSON object; anything else (an array, a number, malformed text) is an error.
  public static func object(fromJSON data: Data) throws -> [String: JSONValue] {
    guard let value = try? JSONDecoder().decode(JSONValue.self, from: data) else {
      throw CatalogError.invalidMetadata("metadata is not valid JSON")
    }
    guard case .object(let object) = value else {
      throw CatalogError.invalidMetadata("metadata must be a JSON object, got \(value)")
    }
    return object
  }
}
