import Foundation
import Tokenizers

/// open_clip's `HFTokenizer` (open_clip/tokenizer.py): the text cleaned by `clean`, then the
/// Hugging Face tokenizer with truncation to the context length and padding to it with the
/// tokenizer's pad id; with `strip_sep_token`, the separator's ids become 0 (as open_clip writes them).
public struct HFTextTokenizer: Sendable {
  /// open_clip's `clean` modes (`get_clean_fn`).
  public enum Clean: String, Sendable, Codable {
    /// ftfy, HTML unescape, whitespace collapsed (HFTokenizer's default).
    case whitespace
    /// As `whitespace`, then lower case.
    case lower
    /// As `whitespace`, then "_" to space, ASCII punctuation removed, lower case (SigLIP).
    case canonicalize
    /// As `whitespace`, with "_" to space first.
    case whitespaceUnderscore = "whitespace_underscore"
  }

  /// open_clip's `tokenizer_kwargs` from the model's config.json.
  public struct Settings: Sendable, Equatable {
    public var clean: Clean
    public var stripSepToken: Bool

    public init(clean: Clean = .whitespace, stripSepToken: Bool = false) {
      self.clean = clean
      self.stripSepToken = stripSepToken
    }
  }

  public let tokenizer: Tokenizer
  public let settings: Settings
  public let padID: Int
  public let sepID: Int?
  /// Which ends transformers pads and truncates (`TokenizerSides`).
  public let padsLeft: Bool
  public let truncatesLeft: Bool

  /// `tokenizer`'s pad and separator tokens come from `tokenizer_config.json` (then
  /// `special_tokens_map.json`) beside it, as transformers reads them; the pad falls back to
  /// the `padding` of tokenizer.json.
  public init(tokenizerJSON url: URL, settings: Settings) throws {
    let tokenizer = try Tokenizer(contentsOf: url)
    let folder = url.deletingLastPathComponent()
    let special = SpecialTokenNames(folder: folder)
    guard let padID = special.pad.flatMap(tokenizer.tokenID) ?? tokenizer.padding?.padID else {
      throw CLIPError.modelFolder(
        folder.path,
        "the tokenizer has no pad token (tokenizer_config.json pad_token), which open_clip pads with")
    }
    let sides = TokenizerSides(special, tokenizer: tokenizer)
    try self.init(
      tokenizer: tokenizer, settings: settings, padID: padID, sepID: special.sep.flatMap(tokenizer.tokenID),
      padsLeft: sides.padLeft, truncatesLeft: sides.truncateLeft)
  }

  public init(
    tokenizer: Tokenizer, settings: Settings, padID: Int, sepID: Int?, padsLeft: Bool = false,
    truncatesLeft: Bool = false
  ) throws {
    self.tokenizer = tokenizer
    self.settings = settings
    self.padID = padID
    self.sepID = sepID
    self.padsLeft = padsLeft
    self.truncatesLeft = truncatesLeft
  }

  /// One row of `contextLength` ids.
  public func tokenize(_ text: String, contextLength: Int) throws -> [Int64] {
    var configured = tokenizer
    configured.truncation = Truncation(maxLength: contextLength, fromLeft: truncatesLeft)
    configured.padding = Padding(length: contextLength, padID: padID, fromLeft: padsLeft)
    var ids = try configured.encode(Self.clean(text, settings.clean)).ids
    // open_clip writes 0 there (`torch.zeros_like`), whatever the pad id is.
    if settings.stripSepToken, let sepID { ids = ids.map { $0 == sepID ? 0 : $0 } }
    return ids.map(Int64.init)
  }

  /// How many ids the cleaned text takes with special tokens, before truncation.
  public func tokenCount(_ text: String) throws -> Int {
    var unbounded = tokenizer
    unbounded.truncation = nil
    unbounded.padding = nil
    return try unbounded.encode(Self.clean(text, settings.clean)).ids.count
  }

  /// open_clip's clean functions; `basic_clean` is ftfy plus HTML unescaping twice.
  public static func clean(_ text: String, _ mode: Clean) -> String {
    let basic = HTMLUnescape.unescape(HTMLUnescape.unescape(TextCleaner.fixText(text)))
    switch mode {
    case .whitespace: return TextCleaner.collapseWhitespace(basic)
    case .lower: return TextCleaner.pythonLowercased(TextCleaner.collapseWhitespace(basic))
    case .whitespaceUnderscore: return TextCleaner.collapseWhitespace(underscoresToSpaces(basic))
    case .canonicalize:
      let kept = underscoresToSpaces(basic).unicodeScalars.filter { !isASCIIPunctuation($0) }
      return TextCleaner.collapseWhitespace(
        TextCleaner.pythonLowercased(String(String.UnicodeScalarView(kept))))
    }
  }

  private static func underscoresToSpaces(_ text: String) -> String {
    String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "_" ? " " : $0 }))
  }

  /// Python's `string.punctuation`.
  static func isASCIIPunctuation(_ scalar: Unicode.Scalar) -> Bool {
    scalar.isASCII && "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars.contains(scalar)
  }
}

/// `pad_token` and `sep_token` as transformers finds them: a string or `{"content": ...}` in
/// tokenizer_config.json, else in special_tokens_map.json; with the config's class and sides.
struct SpecialTokenNames {
  var pad: String?
  var sep: String?
  var tokenizerClass: String?
  var paddingSide: String?
  var truncationSide: String?

  init(folder: URL) {
    for file in ["tokenizer_config.json", "special_tokens_map.json"] {
      guard let data = try? Data(contentsOf: folder.appendingPathComponent(file)),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      else { continue }
      pad = pad ?? Self.name(object["pad_token"])
      sep = sep ?? Self.name(object["sep_token"])
      if file == "tokenizer_config.json" {
        tokenizerClass = object["tokenizer_class"] as? String
        paddingSide = object["padding_side"] as? String
        truncationSide = object["truncation_side"] as? String
      }
    }
  }

  private static func name(_ value: Any?) -> String? {
    (value as? String) ?? ((value as? [String: Any])?["content"] as? String)
  }
}

/// The ends transformers pads and truncates, as its tokenizer's `__init__` settles them:
/// `padding_side`/`truncation_side` in tokenizer_config.json, else the direction of
/// tokenizer.json's own padding/truncation, else the tokenizer class's default. open_clip's
/// HFTokenizer asks for `padding="max_length"` without a side, so SigLIP 2's Gemma tokenizer
/// pads on the left.
struct TokenizerSides {
  /// transformers 5 classes whose `padding_side` is "left" (every other class: "right").
  static let leftPaddingClasses: Set<String> = [
    "GemmaTokenizer", "Siglip2Tokenizer", "LlamaTokenizer", "CodeLlamaTokenizer", "XLNetTokenizer",
    "CohereTokenizer",
  ]

  var padLeft: Bool
  var truncateLeft: Bool

  init(_ config: SpecialTokenNames, tokenizer: Tokenizer) {
    // The "Fast" suffix names the same class in transformers 5.
    let className = config.tokenizerClass.map { $0.hasSuffix("Fast") ? String($0.dropLast(4)) : $0 }
    let classPadsLeft = className.map(Self.leftPaddingClasses.contains) ?? false
    padLeft = config.paddingSide.map { $0 == "left" } ?? tokenizer.padding?.fromLeft ?? classPadsLeft
    truncateLeft = config.truncationSide.map { $0 == "left" } ?? tokenizer.truncation?.fromLeft ?? false
  }
}

/// The text side of a model folder: open_clip's own CLIP tokenizer, or its wrapper around a
/// Hugging Face tokenizer when config.json names one (`text_cfg.hf_tokenizer_name`).
public enum TextTokenizer: Sendable {
  case clip(CLIPTokenizer)
  case huggingFace(HFTextTokenizer)

  /// Rows for several texts, flattened as a `[count, contextLength]` int64 tensor.
  public func tokenize(_ texts: [String], contextLength: Int) throws -> [Int64] {
    switch self {
    case .clip(let tokenizer): tokenizer.tokenize(texts, contextLength: contextLength)
    case .huggingFace(let tokenizer):
      try texts.flatMap { try tokenizer.tokenize($0, contextLength: contextLength) }
    }
  }

  /// The id rows are padded with: CLIP's 0, or the Hugging Face tokenizer's pad id.
  public var padID: Int {
    switch self {
    case .clip: 0
    case .huggingFace(let tokenizer): tokenizer.padID
    }
  }

  /// How many ids the text takes before truncation (special tokens included).
  public func tokenCount(_ text: String) throws -> Int {
    switch self {
    case .clip(let tokenizer): tokenizer.tokenCount(text)
    case .huggingFace(let tokenizer): try tokenizer.tokenCount(text)
    }
  }
}
