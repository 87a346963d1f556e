import Foundation

/// Typed access to the `[String: Any]` that JSONSerialization gives for one component.
struct JSONObject {
  let fields: [String: Any]
  let context: String

  init(_ value: Any?, context: String) throws {
    guard let fields = value as? [String: Any] else {
      throw TokenizationError.malformed("\(context) is not an object")
    }
    self.fields = fields
    self.context = context
  }

  func has(_ key: String) -> Bool { fields[key] != nil && !(fields[key] is NSNull) }

  func string(_ key: String) throws -> String {
    guard let value = fields[key] as? String else { throw missing(key, "a string") }
    return value
  }

  func optionalString(_ key: String) -> String? { fields[key] as? String }

  func bool(_ key: String, default fallback: Bool) -> Bool {
    (fields[key] as? NSNumber)?.boolValue ?? (fields[key] as? Bool) ?? fallback
  }

  func int(_ key: String) throws -> Int {
    guard let value = fields[key] as? NSNumber else { throw missing(key, "a number") }
    return value.intValue
  }

  func optionalInt(_ key: String) -> Int? { (fields[key] as? NSNumber)?.intValue }

  func array(_ key: String) throws -> [Any] {
    guard let value = fields[key] as? [Any] else { throw missing(key, "an array") }
    return value
  }

  func object(_ key: String) throws -> JSONObject {
    try JSONObject(fields[key], context: "\(context).\(key)")
  }

  /// The `type` tag every component carries.
  func type() throws -> String { try string("type") }

  private func missing(_ key: String, _ kind: String) -> TokenizationError {
    .malformed("\(context).\(key) must be \(kind)")
  }
}
