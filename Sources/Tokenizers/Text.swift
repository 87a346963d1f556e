import Foundation

/// Text as Unicode scalars. `tokenizers` compares strings byte for byte, whereas Swift's
/// `String` equality is canonical ("é" == "e\u{301}"), so vocabularies are keyed by scalars
/// and every comparison here is scalar-exact.
typealias Scalars = [Unicode.Scalar]

extension Array where Element == Unicode.Scalar {
  init(_ string: String) { self = Array(string.unicodeScalars) }

  var string: String {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: self)
    return String(view)
  }

  var utf8Bytes: [UInt8] { [UInt8](string.utf8) }

  func hasPrefix(_ prefix: Scalars) -> Bool { starts(with: prefix) }
}

/// Character classes as Rust's `char` methods and the `regex` crate define them.
enum CharacterClass {
  /// `char::is_whitespace`: the Unicode White_Space property.
  static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isWhitespace }

  /// `char::is_numeric`: general categories Nd, Nl, No.
  static func isNumeric(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: true
    default: false
    }
  }

  /// The punctuation categories (Pc, Pd, Pe, Pf, Pi, Po, Ps) or ASCII punctuation.
  static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
    if scalar.isASCII, let byte = UInt8(exactly: scalar.value),
      (0x21...0x2F).contains(byte) || (0x3A...0x40).contains(byte) || (0x5B...0x60).contains(byte)
        || (0x7B...0x7E).contains(byte)
    {
      return true
    }
    switch scalar.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .closePunctuation, .finalPunctuation,
      .initialPunctuation, .otherPunctuation, .openPunctuation:
      return true
    default: return false
    }
  }

  /// `\w` of the `regex` crate: Alphabetic, marks, decimal digits, connector punctuation,
  /// Join_Control.
  static func isWord(_ scalar: Unicode.Scalar) -> Bool {
    let properties = scalar.properties
    if properties.isAlphabetic || properties.isJoinControl { return true }
    switch properties.generalCategory {
    case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
    default: return false
    }
  }

  /// Rust's `is_other` (Cc, Cf, Cn, Co, Cs), which BertNormalizer calls control characters.
  static func isOther(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .unassigned, .privateUse, .surrogate: true
    default: false
    }
  }
}
