import Foundation

/// A `pattern` of Replace and Split: `{"String": ...}` (literal) or `{"Regex": ...}`.
///
/// `tokenizers` compiles regexes with Oniguruma; NSRegularExpression (ICU) reads the same
/// syntax for what tokenizer files use (`\p{L}`, `(?i:...)`, lookahead, possessive), except
/// that ICU's `\s` leaves out U+000B and U+0085, which Oniguruma's includes: `\s` and `\S` are
/// widened before compiling.
struct Pattern: @unchecked Sendable {
  private enum Kind {
    case literal(Scalars)
    case regex(NSRegularExpression)
  }
  private let kind: Kind

  init(json: JSONObject) throws {
    if let literal = json.optionalString("String") {
      kind = .literal(Scalars(literal))
    } else if let source = json.optionalString("Regex") {
      kind = .regex(try Pattern.compile(source))
    } else {
      throw TokenizationError.malformed("\(json.context) needs \"String\" or \"Regex\"")
    }
  }

  init(regex source: String) throws { kind = .regex(try Pattern.compile(source)) }

  static func compile(_ source: String) throws -> NSRegularExpression {
    do {
      return try NSRegularExpression(pattern: widenWhitespace(source))
    } catch {
      throw TokenizationError.malformed("regex \(source) does not compile: \(error)")
    }
  }

  /// Rewrites `\s` / `\S` to Oniguruma's Unicode White_Space set, in and out of brackets.
  static func widenWhitespace(_ source: String) -> String {
    var output = ""
    var inClass = false
    var escaped = false
    for character in source {
      if escaped {
        escaped = false
        switch (character, inClass) {
        case ("s", false): output += "[\\s\\x{0B}\\x{85}]"
        case ("s", true): output += "\\s\\x{0B}\\x{85}"
        case ("S", false): output += "[^\\s\\x{0B}\\x{85}]"
        default: output += "\\" + String(character)
        }
        continue
      }
      switch character {
      case "\\": escaped = true
      case "[": inClass = true; output.append(character)
      case "]": inClass = false; output.append(character)
      default: output.append(character)
      }
    }
    return output
  }

  /// Non-overlapping matches, left to right, as scalar ranges.
  func matches(in text: Scalars) -> [Range<Int>] {
    switch kind {
    case .literal(let literal): Pattern.literalMatches(literal, in: text)
    case .regex(let regex): Pattern.regexMatches(regex, in: text)
    }
  }

  private static func literalMatches(_ literal: Scalars, in text: Scalars) -> [Range<Int>] {
    guard !literal.isEmpty, literal.count <= text.count else { return [] }
    var ranges: [Range<Int>] = []
    var index = 0
    while index + literal.count <= text.count {
      if text[index..<(index + literal.count)].elementsEqual(literal) {
        ranges.append(index..<(index + literal.count))
        index += literal.count
      } else {
        index += 1
      }
    }
    return ranges
  }

  private static func regexMatches(_ regex: NSRegularExpression, in text: Scalars) -> [Range<Int>] {
    let string = text.string
    // UTF-16 offset → scalar offset, for converting NSRange back.
    var scalarAt: [Int] = []
    scalarAt.reserveCapacity(string.utf16.count + 1)
    for (index, scalar) in text.enumerated() {
      scalarAt.append(index)
      if scalar.value > 0xFFFF { scalarAt.append(index) }
    }
    scalarAt.append(text.count)
    let whole = NSRange(location: 0, length: scalarAt.count - 1)
    return regex.matches(in: string, range: whole).map { match in
      scalarAt[match.range.location]..<scalarAt[match.range.location + match.range.length]
    }
  }
}
