import Foundation

/// A `normalizer` of tokenizer.json: rewrites the text before pre-tokenization.
protocol Normalizer: Sendable {
  func normalize(_ text: Scalars) -> Scalars
  /// Also says whether the text's first scalar was removed, i.e. the normalized text no
  /// longer starts at the original's start: `tokenizers` then sees it at an original offset
  /// above 0, which Metaspace's `prepend_scheme: first` checks.
  func normalizeTrackingStart(_ text: Scalars) -> (text: Scalars, shifted: Bool)
}

extension Normalizer {
  /// Rewrites that keep the first scalar's origin (case, composition, prepending).
  func normalizeTrackingStart(_ text: Scalars) -> (text: Scalars, shifted: Bool) { (normalize(text), false) }
}

/// For normalizers that only delete scalars: shifted when the first one is gone.
private func deletionShift(_ text: Scalars, _ kept: (Unicode.Scalar) -> Bool) -> (
  text: Scalars, shifted: Bool
) {
  (text.filter(kept), text.first.map { !kept($0) } ?? false)
}

enum Normalizers {
  /// Builds the normalizer a `normalizer` object describes.
  static func make(_ json: JSONObject) throws -> any Normalizer {
    let type = try json.type()
    switch type {
    case "NFC", "NFD", "NFKC", "NFKD": return UnicodeForm(form: type)
    case "Lowercase": return Lowercase()
    case "Strip":
      return Strip(
        left: json.bool("strip_left", default: true), right: json.bool("strip_right", default: true))
    case "StripAccents": return StripAccents()
    case "Replace":
      return Replace(
        pattern: try Pattern(json: try json.object("pattern")), content: Scalars(try json.string("content")))
    case "Prepend": return Prepend(prefix: Scalars(try json.string("prepend")))
    case "Precompiled": return try Precompiled(base64: try json.string("precompiled_charsmap"))
    case "BertNormalizer": return BertNormalizer(json)
    case "Sequence":
      let items = try json.array("normalizers").enumerated().map { index, item in
        try make(try JSONObject(item, context: "\(json.context).normalizers[\(index)]"))
      }
      return SequenceNormalizer(items: items)
    default: throw TokenizationError.unsupported(component: "normalizer", type: type)
    }
  }
}

struct SequenceNormalizer: Normalizer {
  let items: [any Normalizer]
  func normalize(_ text: Scalars) -> Scalars { items.reduce(text) { $1.normalize($0) } }

  func normalizeTrackingStart(_ text: Scalars) -> (text: Scalars, shifted: Bool) {
    items.reduce((text, false)) { state, item in
      let step = item.normalizeTrackingStart(state.text)
      return (step.text, state.shifted || step.shifted)
    }
  }
}

/// NFC, NFD, NFKC, NFKD.
struct UnicodeForm: Normalizer {
  let form: String
  func normalize(_ text: Scalars) -> Scalars {
    let string = text.string
    switch form {
    case "NFC": return Scalars(string.precomposedStringWithCanonicalMapping)
    case "NFD": return Scalars(string.decomposedStringWithCanonicalMapping)
    case "NFKC": return Scalars(string.precomposedStringWithCompatibilityMapping)
    default: return Scalars(string.decomposedStringWithCompatibilityMapping)
    }
  }
}

/// Rust's `char::to_lowercase`, scalar by scalar (full mappings, no final-sigma context).
struct Lowercase: Normalizer {
  func normalize(_ text: Scalars) -> Scalars {
    text.flatMap { $0.properties.lowercaseMapping.unicodeScalars }
  }
}

struct Strip: Normalizer {
  let left: Bool
  let right: Bool
  func normalize(_ text: Scalars) -> Scalars { normalizeTrackingStart(text).text }

  func normalizeTrackingStart(_ text: Scalars) -> (text: Scalars, shifted: Bool) {
    var slice = text[...]
    if left { slice = slice.drop(while: CharacterClass.isWhitespace) }
    if right {
      while let last = slice.last, CharacterClass.isWhitespace(last) { slice = slice.dropLast() }
    }
    return (Array(slice), !slice.isEmpty && slice.startIndex > 0)
  }
}

/// Removes combining marks (Mn, Mc, Me); combined with NFD/NFKD it strips accents.
struct StripAccents: Normalizer {
  func normalize(_ text: Scalars) -> Scalars { normalizeTrackingStart(text).text }

  func normalizeTrackingStart(_ text: Scalars) -> (text: Scalars, shifted: Bool) {
    deletionShift(text) { scalar in
      switch scalar.properties.generalCategory {
      case .nonspacingMark, .spacingMark, .enclosingMark: false
      default: true
      }
    }
  }
}

struct Replace: Normalizer {
  let pattern: Pattern
  let content: Scalars
  func normalize(_ text: Scalars) -> Scalars { normalizeTrackingStart(text).text }

  /// A match at the start replaced by nothing removes the first scalar.
  func normalizeTrackingStart(_ text: Scalars) -> (text: Scalars, shifted: Bool) {
    let matches = pattern.matches(in: text)
    var output: Scalars = []
    var cursor = 0
    for range in matches {
      output += text[cursor..<range.lowerBound]
      output += content
      cursor = range.upperBound
    }
    output += text[cursor...]
    let shifted = content.isEmpty && matches.first?.lowerBound == 0 && !output.isEmpty
    return (output, shifted)
  }
}

/// Prepends a string to non-empty text.
struct Prepend: Normalizer {
  let prefix: Scalars
  func normalize(_ text: Scalars) -> Scalars { text.isEmpty ? text : prefix + text }
}

/// BERT's cleaning: control characters out, whitespace to ' ', spaces around CJK ideographs,
/// accents stripped (by default when lower-casing), lower case.
struct BertNormalizer: Normalizer {
  let cleanText: Bool
  let chineseChars: Bool
  let stripAccents: Bool
  let lowercase: Bool

  init(_ json: JSONObject) {
    cleanText = json.bool("clean_text", default: true)
    chineseChars = json.bool("handle_chinese_chars", default: true)
    lowercase = json.bool("lowercase", default: true)
    stripAccents = json.has("strip_accents") ? json.bool("strip_accents", default: lowercase) : lowercase
  }

  func normalize(_ text: Scalars) -> Scalars { normalizeTrackingStart(text).text }

  func normalizeTrackingStart(_ text: Scalars) -> (text: Scalars, shifted: Bool) {
    var output = text
    var shifted = false
    if cleanText {
      output = clean(output)
      shifted = text.first.map { BertNormalizer.removed($0) } ?? false
    }
    if chineseChars {
      output = output.flatMap { BertNormalizer.isChinese($0) ? [" ", $0, " "] : [$0] }
    }
    // Unlike StripAccents, BERT's accent stripping drops non-spacing marks (Mn) only.
    if stripAccents {
      let stripped = deletionShift(UnicodeForm(form: "NFD").normalize(output)) {
        $0.properties.generalCategory != .nonspacingMark
      }
      output = stripped.text
      shifted = shifted || stripped.shifted
    }
    if lowercase { output = Lowercase().normalize(output) }
    return (output, shifted && !output.isEmpty)
  }

  private func clean(_ text: Scalars) -> Scalars {
    text.compactMap { scalar in
      if BertNormalizer.removed(scalar) { return nil }
      return CharacterClass.isWhitespace(scalar) ? " " : scalar
    }
  }

  /// NUL, U+FFFD and control characters other than tab, newline and carriage return.
  private static func removed(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
    return scalar.value == 0 || scalar.value == 0xFFFD || CharacterClass.isOther(scalar)
  }

  static func isChinese(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
      0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      true
    default: false
    }
  }
}
