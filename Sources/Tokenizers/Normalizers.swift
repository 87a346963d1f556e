import Foundation

/// A `normalizer` of tokenizer.json: rewrites the text before pre-tokenization.
protocol Normalizer: Sendable {
  func normalize(_ text: Scalars) -> Scalars
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
  func normalize(_ text: Scalars) -> Scalars {
    var slice = text[...]
    if left { slice = slice.drop(while: CharacterClass.isWhitespace) }
    if right {
      while let last = slice.last, CharacterClass.isWhitespace(last) { slice = slice.dropLast() }
    }
    return Array(slice)
  }
}

/// Removes combining marks (Mn, Mc, Me); combined with NFD/NFKD it strips accents.
struct StripAccents: Normalizer {
  func normalize(_ text: Scalars) -> Scalars {
    text.filter { scalar in
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
  func normalize(_ text: Scalars) -> Scalars {
    var output: Scalars = []
    var cursor = 0
    for range in pattern.matches(in: text) {
      output += text[cursor..<range.lowerBound]
      output += content
      cursor = range.upperBound
    }
    output += text[cursor...]
    return output
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

  func normalize(_ text: Scalars) -> Scalars {
    var output = text
    if cleanText { output = clean(output) }
    if chineseChars {
      output = output.flatMap { BertNormalizer.isChinese($0) ? [" ", $0, " "] : [$0] }
    }
    // Unlike StripAccents, BERT's accent stripping drops non-spacing marks (Mn) only.
    if stripAccents {
      output = UnicodeForm(form: "NFD").normalize(output).filter {
        $0.properties.generalCategory != .nonspacingMark
      }
    }
    if lowercase { output = Lowercase().normalize(output) }
    return output
  }

  private func clean(_ text: Scalars) -> Scalars {
    text.compactMap { scalar in
      if scalar == "\t" || scalar == "\n" || scalar == "\r" { return " " }
      if scalar.value == 0 || scalar.value == 0xFFFD || CharacterClass.isOther(scalar) { return nil }
      return CharacterClass.isWhitespace(scalar) ? " " : scalar
    }
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
