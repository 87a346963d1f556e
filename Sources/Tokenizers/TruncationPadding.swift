import Foundation

/// `truncation` of tokenizer.json (one sequence: every strategy cuts the same way).
public struct Truncation: Sendable, Equatable {
  public var maxLength: Int
  /// `direction: Left` keeps the end of the sequence.
  public var fromLeft: Bool

  public init(maxLength: Int, fromLeft: Bool = false) {
    self.maxLength = maxLength
    self.fromLeft = fromLeft
  }

  init(_ json: JSONObject) throws {
    self.init(maxLength: try json.int("max_length"), fromLeft: json.optionalString("direction") == "Left")
  }

  func apply(_ ids: [Int], maxLength: Int) -> [Int] {
    guard ids.count > maxLength else { return ids }
    return fromLeft ? Array(ids.suffix(maxLength)) : Array(ids.prefix(maxLength))
  }
}

/// `padding` of tokenizer.json: to a fixed length, or (one sequence: its own length) rounded
/// up to `pad_to_multiple_of`.
public struct Padding: Sendable, Equatable {
  /// nil: `BatchLongest`.
  public var length: Int?
  public var multipleOf: Int?
  public var padID: Int
  public var fromLeft: Bool

  public init(length: Int?, padID: Int, multipleOf: Int? = nil, fromLeft: Bool = false) {
    self.length = length
    self.padID = padID
    self.multipleOf = multipleOf
    self.fromLeft = fromLeft
  }

  init(_ json: JSONObject) throws {
    var length: Int?
    if let strategy = json.fields["strategy"] as? [String: Any] {
      length = try JSONObject(strategy, context: "padding.strategy").int("Fixed")
    }
    self.init(
      length: length, padID: json.optionalInt("pad_id") ?? 0,
      multipleOf: json.optionalInt("pad_to_multiple_of"),
      fromLeft: json.optionalString("direction") == "Left")
  }

  func apply(_ ids: [Int]) -> Encoding {
    var target = max(length ?? ids.count, ids.count)
    if let multipleOf, multipleOf > 0, target % multipleOf != 0 { target += multipleOf - target % multipleOf }
    let filler = Array(repeating: padID, count: target - ids.count)
    let mask = Array(repeating: 1, count: ids.count)
    let zeros = Array(repeating: 0, count: filler.count)
    return fromLeft
      ? Encoding(ids: filler + ids, attentionMask: zeros + mask)
      : Encoding(ids: ids + filler, attentionMask: mask + zeros)
  }
}
