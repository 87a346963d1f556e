import Foundation

/// A `post_processor` of tokenizer.json: adds the special tokens around a single sequence.
protocol PostProcessor: Sendable {
  func process(_ ids: [Int]) -> [Int]
  /// How many ids `process` adds (truncation leaves room for them).
  var addedCount: Int { get }
}

enum PostProcessors {
  static func make(_ json: JSONObject) throws -> any PostProcessor {
    let type = try json.type()
    switch type {
    case "TemplateProcessing": return try Template(json)
    case "RobertaProcessing", "BertProcessing":
      return Surround(before: [try idOfPair(json, "cls")], after: [try idOfPair(json, "sep")])
    case "ByteLevel": return Surround(before: [], after: [])  // offsets only; ids unchanged
    case "Sequence":
      let items = try json.array("processors").enumerated().map { index, item in
        try make(try JSONObject(item, context: "\(json.context).processors[\(index)]"))
      }
      return SequenceProcessor(items: items)
    default: throw TokenizationError.unsupported(component: "post-processor", type: type)
    }
  }

  /// `"sep": ["</s>", 2]`.
  private static func idOfPair(_ json: JSONObject, _ key: String) throws -> Int {
    guard let pair = json.fields[key] as? [Any], pair.count == 2, let id = pair[1] as? NSNumber else {
      throw TokenizationError.malformed("\(json.context).\(key) must be [token, id]")
    }
    return id.intValue
  }
}

struct Surround: PostProcessor {
  let before: [Int]
  let after: [Int]
  func process(_ ids: [Int]) -> [Int] { before + ids + after }
  var addedCount: Int { before.count + after.count }
}

struct SequenceProcessor: PostProcessor {
  let items: [any PostProcessor]
  func process(_ ids: [Int]) -> [Int] { items.reduce(ids) { $1.process($0) } }
  var addedCount: Int { items.reduce(0) { $0 + $1.addedCount } }
}

/// TemplateProcessing's `single` template: `$A` is the sequence, each special token expands
/// to the ids `special_tokens` lists for it.
struct Template: PostProcessor {
  private enum Item {
    case sequence
    case special([Int])
  }
  private let items: [Item]

  init(_ json: JSONObject) throws {
    let specials = try json.object("special_tokens")
    items = try json.array("single").map { element in
      let item = try JSONObject(element, context: "\(json.context).single")
      if item.has("Sequence") {
        let id = try item.object("Sequence").string("id")
        guard id == "A" else { throw TokenizationError.malformed("single template refers to $\(id)") }
        return .sequence
      }
      let name = try item.object("SpecialToken").string("id")
      let special = try specials.object(name)
      guard let ids = special.fields["ids"] as? [NSNumber] else {
        throw TokenizationError.malformed("special token \(name) has no ids")
      }
      return .special(ids.map(\.intValue))
    }
  }

  func process(_ ids: [Int]) -> [Int] {
    items.flatMap { item -> [Int] in
      switch item {
      case .sequence: ids
      case .special(let special): special
      }
    }
  }

  var addedCount: Int {
    items.reduce(0) { count, item in
      if case .special(let ids) = item { count + ids.count } else { count }
    }
  }
}
