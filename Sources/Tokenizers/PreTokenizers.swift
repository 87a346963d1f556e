import Foundation

/// A `pre_tokenizer` of tokenizer.json: splits (and may rewrite) pieces before the model.
protocol PreTokenizer: Sendable {
  func split(_ piece: Piece) -> [Piece]
}

enum PreTokenizers {
  static func make(_ json: JSONObject) throws -> any PreTokenizer {
    let type = try json.type()
    switch type {
    case "ByteLevel": return try ByteLevelPreTokenizer(json)
    case "Metaspace": return try Metaspace(json)
    case "Whitespace": return try RegexSplit(regex: #"\w+|[^\w\s]+"#, behavior: .removed, invert: true)
    case "WhitespaceSplit": return ScalarSplit(behavior: .removed, predicate: CharacterClass.isWhitespace)
    case "Split":
      return RegexSplit(
        pattern: try Pattern(json: try json.object("pattern")), behavior: try SplitBehavior(json: json),
        invert: json.bool("invert", default: false))
    case "Punctuation":
      return ScalarSplit(
        behavior: try SplitBehavior(json: json, default: .isolated), predicate: CharacterClass.isPunctuation)
    case "Digits":
      return ScalarSplit(
        behavior: json.bool("individual_digits", default: false) ? .isolated : .contiguous,
        predicate: CharacterClass.isNumeric)
    case "BertPreTokenizer":
      return SequencePreTokenizer(items: [
        ScalarSplit(behavior: .removed, predicate: CharacterClass.isWhitespace),
        ScalarSplit(behavior: .isolated, predicate: CharacterClass.isPunctuation),
      ])
    case "Sequence":
      let items = try json.array("pretokenizers").enumerated().map { index, item in
        try make(try JSONObject(item, context: "\(json.context).pretokenizers[\(index)]"))
      }
      return SequencePreTokenizer(items: items)
    default: throw TokenizationError.unsupported(component: "pre-tokenizer", type: type)
    }
  }
}

struct SequencePreTokenizer: PreTokenizer {
  let items: [any PreTokenizer]
  func split(_ piece: Piece) -> [Piece] {
    items.reduce([piece]) { pieces, item in pieces.flatMap { item.split($0) } }
  }
}

/// Split, Whitespace: regex or literal delimiters.
struct RegexSplit: PreTokenizer {
  let pattern: Pattern
  let behavior: SplitBehavior
  let invert: Bool

  init(pattern: Pattern, behavior: SplitBehavior, invert: Bool) {
    self.pattern = pattern
    self.behavior = behavior
    self.invert = invert
  }

  init(regex: String, behavior: SplitBehavior, invert: Bool) throws {
    self.init(pattern: try Pattern(regex: regex), behavior: behavior, invert: invert)
  }

  func split(_ piece: Piece) -> [Piece] {
    Splitter.split(piece, matches: pattern.matches(in: piece.text), behavior: behavior, invert: invert)
  }
}

/// WhitespaceSplit, Punctuation, Digits, BertPreTokenizer: every scalar of a class delimits.
struct ScalarSplit: PreTokenizer {
  let behavior: SplitBehavior
  let predicate: @Sendable (Unicode.Scalar) -> Bool
  func split(_ piece: Piece) -> [Piece] {
    Splitter.split(piece, matches: Splitter.scalarMatches(piece.text, predicate), behavior: behavior)
  }
}

/// SentencePiece's whitespace marker: spaces become `replacement` ("▁"), one is prepended
/// (always, to the first piece only, or never), and pieces split before each marker.
struct Metaspace: PreTokenizer {
  let replacement: Unicode.Scalar
  let prependScheme: String
  let splits: Bool

  init(_ json: JSONObject) throws {
    let replacement = try json.string("replacement").unicodeScalars
    guard replacement.count == 1, let scalar = replacement.first else {
      throw TokenizationError.malformed("Metaspace replacement must be one character")
    }
    self.replacement = scalar
    if let scheme = json.optionalString("prepend_scheme") {
      prependScheme = scheme
    } else {
      // Files from before `prepend_scheme` say `add_prefix_space`.
      prependScheme = json.bool("add_prefix_space", default: true) ? "always" : "never"
    }
    guard ["always", "first", "never"].contains(prependScheme) else {
      throw TokenizationError.unsupported(component: "Metaspace prepend_scheme", type: prependScheme)
    }
    splits = json.bool("split", default: true)
  }

  func split(_ piece: Piece) -> [Piece] {
    var text = piece.text.map { $0 == " " ? replacement : $0 }
    let prepend = prependScheme == "always" || (prependScheme == "first" && piece.atStart)
    if prepend, let first = text.first, first != replacement { text.insert(replacement, at: 0) }
    let rewritten = Piece(text: text, atStart: piece.atStart)
    guard splits else { return text.isEmpty ? [] : [rewritten] }
    let matches = Splitter.scalarMatches(text) { $0 == replacement }
    return Splitter.split(rewritten, matches: matches, behavior: .mergedWithNext)
  }
}
