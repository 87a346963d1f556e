import Foundation
import Hummingbird

/// Typed, bounded access to a request's query parameters: a value out of range or of the
/// wrong type is a 400 that names the parameter, never a silent default.
struct QueryReader {
  /// Decoded name/value pairs, first occurrence wins.
  let parameters: [String: String]

  init(_ request: Request) { parameters = Self.parse(request.uri.query ?? "") }

  /// `application/x-www-form-urlencoded` query parsing: `+` is a space (what browsers and
  /// HTML forms send), then percent-decoding, so that `%2B` stays a plus.
  static func parse(_ query: String) -> [String: String] {
    var parameters: [String: String] = [:]
    for pair in query.split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
      }
      let name = decode(parts[0])
      if parameters[name] == nil { parameters[name] = parts.count > 1 ? decode(parts[1]) : "" }
    }
    return parameters
  }

  func string(_ name: String) -> String? {
    parameters[name].flatMap { $0.isEmpty ? nil : $0 }
  }

  func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
    guard let text = string(name) else { return nil }
    guard let value = Int(text), range.contains(value) else {
      throw APIError.invalidParameter(
        "'\(name)' must be an integer in \(range.lowerBound)…\(range.upperBound), got '\(text)'")
    }
    return value
  }

  /// A finite number, nil when absent; its range is checked where the setting is built
  /// (`Bounds`), so that every way of sending a setting meets the same rule.
  func double(_ name: String) throws -> Double? {
    guard let text = string(name) else { return nil }
    guard let value = Double(text), value.isFinite else {
      throw APIError.invalidParameter("'\(name)' must be a number, got '\(text)'")
    }
    return value
  }

  func bool(_ name: String) throws -> Bool? {
    guard let text = string(name)?.lowercased() else { return nil }
    switch text {
    case "true", "1", "yes": return true
    case "false", "0", "no": return false
    default: throw APIError.invalidParameter("'\(name)' must be true or false, got '\(text)'")
    }
  }

  /// A comma-separated list (`classes=person,car`), nil when absent.
  func list(_ name: String) -> [String]? {
    string(name).map(ListParsing.commaSeparated)
  }
}

/// `k` of a search: 1 through the server's `maxResults`.
func validatedK(_ k: Int?, limits: RequestLimits, default defaultValue: Int = 10) throws -> Int {
  let value = k ?? defaultValue
  guard (1...limits.maxResults).contains(value) else {
    throw APIError.invalidParameter("'k' must be in 1…\(limits.maxResults), got \(value)")
  }
  return value
}

/// Range checks for numeric settings, whichever way they arrive (query, JSON, AR settings).
enum Bounds {
  /// `value` within `range`; `open` excludes the bounds (a field of view of 0° means nothing).
  static func check(_ value: Double?, _ name: String, in range: ClosedRange<Double>, open: Bool = false)
    throws
    -> Double?
  {
    guard let value else { return nil }
    guard value.isFinite, range.contains(value),
      !open || (value != range.lowerBound && value != range.upperBound)
    else {
      let bounds =
        open ? "(\(range.lowerBound), \(range.upperBound))" : "[\(range.lowerBound), \(range.upperBound)]"
      throw APIError.invalidParameter("'\(name)' must be a number in \(bounds), got \(value)")
    }
    return value
  }
}
