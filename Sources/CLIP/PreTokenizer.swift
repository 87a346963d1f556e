/// Splits cleaned text into words the way open_clip's regex does:
///
///     <start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
///
/// tried in that order at each position, whitespace skipped. Hand-written over Unicode
/// scalars: faster than a regex engine and free of grapheme-cluster surprises.
enum PreTokenizer {
  static let specialTokens = ["<start_of_text>", "<end_of_text>"]
  static let contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]

  static func words(_ text: String) -> [String] {
    let scalars = Array(text.unicodeScalars)
    var words: [String] = []
    var index = 0
    while index < scalars.count {
      let length = matchLength(scalars, at: index)
      if length == 0 {
        index += 1  // whitespace: no alternative matches
        continue
      }
      words.append(String(String.UnicodeScalarView(scalars[index..<index + length])))
      index += length
    }
    return words
  }

  private static func matchLength(_ scalars: [Unicode.Scalar], at index: Int) -> Int {
    for literal in specialTokens + contractions where hasPrefix(scalars, index, literal) {
      return literal.unicodeScalars.count
    }
    let first = scalars[index]
    if isLetter(first) { return run(scalars, index, isLetter) }
    if isNumber(first) { return 1 }
    if isOther(first) { return run(scalars, index, isOther) }
    return 0
  }

  /// Case-insensitive (the pattern is compiled with IGNORECASE).
  private static func hasPrefix(_ scalars: [Unicode.Scalar], _ index: Int, _ literal: String) -> Bool {
    var position = index
    for expected in literal.unicodeScalars {
      guard position < scalars.count else { return false }
      let actual = scalars[position]
      guard actual == expected || (actual.isASCII && Character(actual).lowercased() == String(expected))
      else { return false }
      position += 1
    }
    return true
  }

  private static func run(_ scalars: [Unicode.Scalar], _ start: Int, _ belongs: (Unicode.Scalar) -> Bool)
    -> Int
  {
    var end = start
    while end < scalars.count, belongs(scalars[end]) { end += 1 }
    return end - start
  }

  static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
    default: false
    }
  }

  static func isNumber(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: true
    default: false
    }
  }

  static func isOther(_ scalar: Unicode.Scalar) -> Bool {
    !isLetter(scalar) && !isNumber(scalar) && !scalar.properties.isWhitespace
      && !TextTableData.shared.pythonSpaces.contains(scalar)
  }
}
