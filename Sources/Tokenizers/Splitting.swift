/// One piece of the text between pre-tokenization steps. `atStart` records whether it begins
/// at the start of the original input, which Metaspace's `prepend_scheme: first` asks.
struct Piece: Equatable {
  var text: Scalars
  var atStart: Bool
}

/// How a split keeps the delimiters it found (`SplitDelimiterBehavior`).
enum SplitBehavior: String {
  case removed = "Removed"
  case isolated = "Isolated"
  case mergedWithPrevious = "MergedWithPrevious"
  case mergedWithNext = "MergedWithNext"
  case contiguous = "Contiguous"

  init(json: JSONObject, key: String = "behavior", default fallback: SplitBehavior? = nil) throws {
    if let fallback, !json.has(key) {
      self = fallback
      return
    }
    let name = try json.string(key)
    // Older files spell the behaviours in snake case.
    let camel = name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    guard let behavior = SplitBehavior(rawValue: camel) else {
      throw TokenizationError.unsupported(component: "split behavior", type: name)
    }
    self = behavior
  }
}

enum Splitter {
  /// Cuts `text` into the matched ranges and the gaps between them, flagged with whether they
  /// matched, as `tokenizers`' `Pattern::find_matches` does.
  static func segments(_ text: Scalars, matches: [Range<Int>]) -> [(Range<Int>, Bool)] {
    var segments: [(Range<Int>, Bool)] = []
    var cursor = 0
    for range in matches {
      if cursor < range.lowerBound { segments.append((cursor..<range.lowerBound, false)) }
      segments.append((range, true))
      cursor = range.upperBound
    }
    if cursor < text.count { segments.append((cursor..<text.count, false)) }
    return segments
  }

  /// Each scalar satisfying `predicate` is a match of its own.
  static func scalarMatches(_ text: Scalars, _ predicate: (Unicode.Scalar) -> Bool) -> [Range<Int>] {
    text.indices.filter { predicate(text[$0]) }.map { $0..<($0 + 1) }
  }

  /// `NormalizedString::split`: applies the behaviour to the segments, drops empty pieces.
  static func split(_ piece: Piece, matches: [Range<Int>], behavior: SplitBehavior, invert: Bool = false)
    -> [Piece]
  {
    let flagged = segments(piece.text, matches: matches).map { ($0.0, $0.1 != invert) }
    return arrange(flagged, behavior).compactMap { range in
      range.isEmpty
        ? nil : Piece(text: Array(piece.text[range]), atStart: piece.atStart && range.lowerBound == 0)
    }
  }

  private static func arrange(_ segments: [(Range<Int>, Bool)], _ behavior: SplitBehavior) -> [Range<Int>] {
    switch behavior {
    case .isolated: return segments.map(\.0)
    case .removed: return segments.filter { !$0.1 }.map(\.0)
    case .contiguous:
      return merge(segments) { isMatch, previous, hasLast in isMatch == previous && hasLast }
    case .mergedWithPrevious:
      return merge(segments) { isMatch, previous, hasLast in isMatch && !previous && hasLast }
    case .mergedWithNext:
      let reversed = merge(
        segments.reversed().map { (range: Range<Int>, match: Bool) in
          (-range.upperBound..<(-range.lowerBound), match)
        }
      ) { isMatch, previous, hasLast in isMatch && !previous && hasLast }
      return reversed.reversed().map { -$0.upperBound..<(-$0.lowerBound) }
    }
  }

  /// Folds segments left to right, extending the last range when `joins` says so.
  private static func merge(_ segments: [(Range<Int>, Bool)], joins: (Bool, Bool, Bool) -> Bool) -> [Range<
    Int
  >] {
    var ranges: [Range<Int>] = []
    var previous = false
    for (range, isMatch) in segments {
      if joins(isMatch, previous, !ranges.isEmpty), let last = ranges.popLast() {
        ranges.append(last.lowerBound..<range.upperBound)
      } else {
        ranges.append(range)
      }
      previous = isMatch
    }
    return ranges
  }
}
