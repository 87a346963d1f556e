/// Python's `html.unescape`, which open_clip applies twice to every text: named references
/// (with or without ';', longest known prefix), decimal and hexadecimal references, and
/// HTML5's replacements for invalid ones.
enum HTMLUnescape {
  static func unescape(_ text: String) -> String {
    guard text.unicodeScalars.contains("&") else { return text }
    let tables = TextTableData.shared
    let scalars = Array(text.unicodeScalars)
    var output = String.UnicodeScalarView()
    var index = 0
    while index < scalars.count {
      guard scalars[index] == "&", let (replacement, length) = reference(scalars, index + 1, tables)
      else {
        output.append(scalars[index])
        index += 1
        continue
      }
      output.append(contentsOf: replacement.unicodeScalars)
      index += 1 + length
    }
    return String(output)
  }

  /// The replacement for the reference after an '&' at `start`, and how many scalars it used.
  private static func reference(_ scalars: [Unicode.Scalar], _ start: Int, _ tables: TextTableData)
    -> (String, Int)?
  {
    guard start < scalars.count else { return nil }
    if scalars[start] == "#" { return numeric(scalars, start + 1, tables).map { ($0.0, $0.1 + 1) } }
    // [^\t\n\f <&#;]{1,32};?
    var end = start
    while end < scalars.count, end - start < 32, !"\t\n\u{0C} <&#;".unicodeScalars.contains(scalars[end]) {
      end += 1
    }
    guard end > start else { return nil }
    if end < scalars.count, scalars[end] == ";" { end += 1 }
    let name = String(String.UnicodeScalarView(scalars[start..<end]))
    if let value = tables.html5[name] { return (value, end - start) }
    let nameScalars = Array(name.unicodeScalars)
    for length in stride(from: nameScalars.count - 1, to: 1, by: -1) {
      let prefix = String(String.UnicodeScalarView(nameScalars[0..<length]))
      if let value = tables.html5[prefix] {
        return (value + String(String.UnicodeScalarView(nameScalars[length...])), end - start)
      }
    }
    return ("&" + name, end - start)
  }

  /// `#123;` or `#x7B;` (the ';' optional), after the '#'.
  private static func numeric(_ scalars: [Unicode.Scalar], _ start: Int, _ tables: TextTableData)
    -> (String, Int)?
  {
    var index = start
    var radix = 10
    if index < scalars.count, scalars[index] == "x" || scalars[index] == "X" {
      radix = 16
      index += 1
    }
    let digitsStart = index
    while index < scalars.count, Character(scalars[index]).isASCII,
      Character(scalars[index]).hexDigitValue.map({ $0 < radix }) == true
    {
      index += 1
    }
    guard index > digitsStart else { return nil }
    let digits = String(String.UnicodeScalarView(scalars[digitsStart..<index]))
    if index < scalars.count, scalars[index] == ";" { index += 1 }
    return (character(for: digits, radix: radix, tables), index - start)
  }

  private static func character(for digits: String, radix: Int, _ tables: TextTableData) -> String {
    // Python's int() has no overflow; anything past U+10FFFF becomes U+FFFD anyway.
    let trimmed = digits.drop { $0 == "0" }
    guard trimmed.count <= 8, let number = UInt32(trimmed.isEmpty ? "0" : String(trimmed), radix: radix)
    else { return "\u{FFFD}" }
    if let replacement = tables.invalidCharrefs[number] { return replacement }
    if (0xD800...0xDFFF).contains(number) || number > 0x10FFFF { return "\u{FFFD}" }
    if tables.invalidCodepoints.contains(number) { return "" }
    return Unicode.Scalar(number).map { String(Character($0)) } ?? "\u{FFFD}"
  }
}
