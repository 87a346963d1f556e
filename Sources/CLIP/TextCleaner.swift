import Foundation

/// open_clip's text cleaning (`_clean_lower`): `ftfy.fix_text`, `html.unescape` twice,
/// whitespace collapsed, lower-cased.
///
/// ftfy's default fixers are reproduced except mojibake repair (`fix_encoding`), which is a
/// statistical guess about text that was decoded with the wrong codec (`"cafÃ©"` → `"café"`):
/// such text tokenizes differently here. Everything else — HTML entities, C1 controls,
/// Latin ligatures, full-width forms, curly quotes, line breaks, terminal escapes, control
/// characters, NFC — matches, with tables generated from ftfy itself (TextTables.swift).
enum TextCleaner {
  static func clean(_ text: String) -> String {
    let fixed = fixText(text)
    let unescaped = HTMLUnescape.unescape(HTMLUnescape.unescape(fixed))
    return pythonLowercased(collapseWhitespace(unescaped))
  }

  /// `ftfy.fix_text`: line by line; HTML unescaping stays off for the rest of the text once a
  /// line contains '<' (ftfy's "auto" mode guesses such text is HTML).
  static func fixText(_ text: String) -> String {
    var unescapeHTML = true
    var output = ""
    var segment = String.UnicodeScalarView()
    func flush() {
      if segment.contains("<") { unescapeHTML = false }
      output += fixSegment(String(segment), unescapeHTML: unescapeHTML)
      segment.removeAll()
    }
    for scalar in text.unicodeScalars {
      segment.append(scalar)
      if scalar == "\n" { flush() }
    }
    if !segment.isEmpty { flush() }
    return output
  }

  /// ftfy's `fix_and_explain`: the fixers in ftfy's order, repeated until nothing changes.
  static func fixSegment(_ segment: String, unescapeHTML: Bool) -> String {
    var text = segment
    while true {
      let original = text
      if unescapeHTML { text = unescapeEntities(text) }
      text = translate(text) { TextTableData.shared.c1[$0] }
      text = translate(text) { TextTableData.shared.ligatures[$0] }
      text = translate(text) { TextTableData.shared.widths[$0] }
      text = uncurlQuotes(text)
      text = fixLineBreaks(text)
      text = removeTerminalEscapes(text)
      text = translate(text) { TextTableData.shared.controls.contains($0) ? "" : nil }
      text = text.precomposedStringWithCanonicalMapping
      if text.unicodeScalars.elementsEqual(original.unicodeScalars) { return text }
    }
  }

  /// Replaces each scalar for which `replacement` gives a string.
  static func translate(_ text: String, _ replacement: (Unicode.Scalar) -> String?) -> String {
    var output = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      if let replaced = replacement(scalar) {
        output.append(contentsOf: replaced.unicodeScalars)
      } else {
        output.append(scalar)
      }
    }
    return String(output)
  }

  /// ftfy's `unescape_html`: `&#?[0-9A-Za-z]{1,24};` replaced when it is a known entity
  /// (ftfy's own table) or a numeric reference that decodes completely.
  static func unescapeEntities(_ text: String) -> String {
    guard text.unicodeScalars.contains("&") else { return text }
    let scalars = Array(text.unicodeScalars)
    var output = String.UnicodeScalarView()
    var index = 0
    while index < scalars.count {
      if scalars[index] == "&", let end = entityEnd(scalars, index) {
        let entity = String(String.UnicodeScalarView(scalars[index...end]))
        output.append(contentsOf: entityReplacement(entity).unicodeScalars)
        index = end + 1
      } else {
        output.append(scalars[index])
        index += 1
      }
    }
    return String(output)
  }

  /// Index of the ';' closing `&#?[0-9A-Za-z]{1,24};` at `start`, if it matches there.
  private static func entityEnd(_ scalars: [Unicode.Scalar], _ start: Int) -> Int? {
    var index = start + 1
    if index < scalars.count, scalars[index] == "#" { index += 1 }
    let nameStart = index
    while index < scalars.count, index - nameStart < 24, scalars[index].isASCII,
      Character(scalars[index]).isLetter || Character(scalars[index]).isNumber
    {
      index += 1
    }
    guard index > nameStart, index < scalars.count, scalars[index] == ";" else { return nil }
    return index
  }

  private static func entityReplacement(_ entity: String) -> String {
    let tables = TextTableData.shared
    if let value = tables.html5[String(entity.dropFirst())], entity.hasSuffix(";") { return value }
    if let value = tables.upperEntities[entity] { return value }
    if entity.hasPrefix("&#") {
      let unescaped = HTMLUnescape.unescape(entity)
      return unescaped.contains(";") ? entity : unescaped
    }
    return entity
  }

  /// ftfy's `uncurl_quotes`: U+02BC, U+2018–U+201B → '; U+201C–U+201F → ".
  static func uncurlQuotes(_ text: String) -> String {
    translate(text) { scalar in
      switch scalar.value {
      case 0x02BC, 0x2018...0x201B: "'"
      case 0x201C...0x201F: "\""
      default: nil
      }
    }
  }

  /// ftfy's `fix_line_breaks`: CRLF, CR, U+2028, U+2029 and U+0085 become "\n".
  static func fixLineBreaks(_ text: String) -> String {
    var output = String.UnicodeScalarView()
    var previousWasCR = false
    for scalar in text.unicodeScalars {
      if scalar == "\n" && previousWasCR {
        previousWasCR = false
        continue
      }
      previousWasCR = scalar == "\r"
      switch scalar.value {
      case 0x0D, 0x2028, 0x2029, 0x85: output.append("\n")
      default: output.append(scalar)
      }
    }
    return String(output)
  }

  /// ftfy's `remove_terminal_escapes`: `\x1b\[(\d|;)*[a-zA-Z]` removed.
  static func removeTerminalEscapes(_ text: String) -> String {
    let scalars = Array(text.unicodeScalars)
    guard scalars.contains("\u{1B}") else { return text }
    var output = String.UnicodeScalarView()
    var index = 0
    while index < scalars.count {
      if scalars[index] == "\u{1B}", index + 1 < scalars.count, scalars[index + 1] == "[" {
        var end = index + 2
        while end < scalars.count, scalars[end] == ";" || scalars[end].properties.numericType == .decimal {
          end += 1
        }
        if end < scalars.count, scalars[end].isASCII, Character(scalars[end]).isLetter {
          index = end + 1
          continue
        }
      }
      output.append(scalars[index])
      index += 1
    }
    return String(output)
  }

  /// Python's `str.lower()`: full lowercase mappings, and capital sigma as final sigma (ς)
  /// after a cased letter when no cased letter follows (case-ignorable characters skipped).
  static func pythonLowercased(_ text: String) -> String {
    let scalars = Array(text.unicodeScalars)
    var output = String.UnicodeScalarView()
    for (index, scalar) in scalars.enumerated() {
      if scalar == "\u{03A3}" {
        output.append(isFinalSigma(scalars, index) ? "\u{03C2}" : "\u{03C3}")
      } else {
        output.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
      }
    }
    return String(output)
  }

  private static func isFinalSigma(_ scalars: [Unicode.Scalar], _ index: Int) -> Bool {
    let before = scalars[..<index].last { !$0.properties.isCaseIgnorable }
    guard let before, before.properties.isCased else { return false }
    let after = scalars[(index + 1)...].first { !$0.properties.isCaseIgnorable }
    return after.map { !$0.properties.isCased } ?? true
  }

  /// `" ".join(text.split()).strip()` with Python's notion of whitespace.
  static func collapseWhitespace(_ text: String) -> String {
    let spaces = TextTableData.shared.pythonSpaces
    var output = String.UnicodeScalarView()
    var pendingSpace = false
    for scalar in text.unicodeScalars {
      if spaces.contains(scalar) {
        pendingSpace = !output.isEmpty
      } else {
        if pendingSpace { output.append(" ") }
        pendingSpace = false
        output.append(scalar)
      }
    }
    return String(output)
  }
}
