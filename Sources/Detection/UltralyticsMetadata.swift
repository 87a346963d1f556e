import Foundation

/// What Ultralytics writes into an export's `metadata_props`, parsed: the class names (a Python
/// dict literal, `{0: 'person', 1: 'bicycle'}`), the input size (`[640, 640]` or `640`), the
/// stride, the task and whether the head is end-to-end (NMS inside the model).
public struct UltralyticsMetadata: Sendable, Equatable {
  public var names: [String]?
  /// Height and width the model was exported for.
  public var imageSize: (height: Int, width: Int)?
  public var stride: Int?
  public var task: String?
  public var endToEnd: Bool

  public init(properties: [String: String]) throws {
    names = try properties["names"].map(Self.parseNames)
    imageSize = try properties["imgsz"].map(Self.parseImageSize)
    stride = properties["stride"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    task = properties["task"]
    endToEnd = properties["end2end"] == "True"
  }

  public static func == (a: Self, b: Self) -> Bool {
    a.names == b.names && a.imageSize?.height == b.imageSize?.height
      && a.imageSize?.width == b.imageSize?.width && a.stride == b.stride && a.task == b.task
      && a.endToEnd == b.endToEnd
  }

  /// `{0: 'person', 1: "o'clock"}` → ["person", "o'clock"]; keys must be 0…n-1.
  static func parseNames(_ text: String) throws -> [String] {
    var scanner = LiteralScanner(text)
    var byIndex: [Int: String] = [:]
    try scanner.expect("{")
    while !scanner.consume("}") {
      let key = try scanner.integer()
      try scanner.expect(":")
      byIndex[key] = try scanner.string()
      if !scanner.consume(",") {
        try scanner.expect("}")
        break
      }
    }
    let names = (0..<byIndex.count).compactMap { byIndex[$0] }
    guard names.count == byIndex.count else {
      throw DetectionError.unexpectedModel("class names are not numbered 0…\(byIndex.count - 1): \(text)")
    }
    return names
  }

  /// `[640, 640]` (height, width), `[640]` or `640`.
  static func parseImageSize(_ text: String) throws -> (height: Int, width: Int) {
    let numbers = text.split(whereSeparator: { "[](), ".contains($0) }).compactMap { Int($0) }
    switch numbers.count {
    case 1 where numbers[0] > 0: return (numbers[0], numbers[0])
    case 2 where numbers.allSatisfy({ $0 > 0 }): return (numbers[0], numbers[1])
    default: throw DetectionError.unexpectedModel("unreadable imgsz '\(text)' in the model's metadata")
    }
  }
}

/// Reads the few Python literal forms Ultralytics' `str(dict)` produces.
struct LiteralScanner {
  let characters: [Character]
  var position = 0

  init(_ text: String) { characters = Array(text) }

  mutating func skipSpaces() {
    while position < characters.count && characters[position].isWhitespace { position += 1 }
  }

  mutating func consume(_ character: Character) -> Bool {
    skipSpaces()
    guard position < characters.count, characters[position] == character else { return false }
    position += 1
    return true
  }

  mutating func expect(_ character: Character) throws {
    guard consume(character) else { throw error("expected '\(character)'") }
  }

  mutating func integer() throws -> Int {
    skipSpaces()
    let start = position
    while position < characters.count && characters[position].isNumber { position += 1 }
    guard let value = Int(String(characters[start..<position])) else { throw error("expected a number") }
    return value
  }

  /// A Python string literal in single or double quotes, with backslash escapes.
  mutating func string() throws -> String {
    skipSpaces()
    guard position < characters.count, characters[position] == "'" || characters[position] == "\"" else {
      throw error("expected a quoted name")
    }
    let quote = characters[position]
    position += 1
    var result = ""
    while position < characters.count {
      let character = characters[position]
      position += 1
      if character == quote { return result }
      if character == "\\" && position < characters.count {
        let escaped = characters[position]
        position += 1
        switch escaped {
        case "n": result.append("\n")
        case "t": result.append("\t")
        default: result.append(escaped)
        }
      } else {
        result.append(character)
      }
    }
    throw error("unterminated name")
  }

  func error(_ problem: String) -> DetectionError {
    .unexpectedModel("unreadable class names in the model's metadata (\(problem) at \(position))")
  }
}
