/// Byte-level BPE one word at a time, for callers that clean and split the text themselves
/// (open_clip's CLIP tokenizer): the word's UTF-8 bytes in GPT-2's byte alphabet, the last
/// one with `endOfWordSuffix`, merged by rank exactly as the `BPE` model of tokenizer.json.
public struct ByteLevelBPE: Sendable {
  /// GPT-2's `bytes_to_unicode` in its own order (printable bytes first), which is the order
  /// of the first 256 entries of CLIP's vocabulary.
  public static let alphabet: [(byte: UInt8, character: String)] = {
    let printable = (0..<256).filter { ByteLevelAlphabet.characters[$0].value == UInt32($0) }
    let others = (0..<256).filter { ByteLevelAlphabet.characters[$0].value != UInt32($0) }
    return (printable + others).map { (UInt8($0), String(ByteLevelAlphabet.characters[$0])) }
  }()

  private let model: BPE

  /// Every byte's character, alone and with the suffix, must be in the vocabulary.
  public init(vocabulary: [String: Int], merges: [(String, String)], endOfWordSuffix: String = "") throws {
    let table = Vocabulary(vocabulary.map { ($0.key, $0.value) })
    let suffix = Scalars(endOfWordSuffix)
    for character in ByteLevelAlphabet.characters {
      for symbol in [[character], [character] + suffix] where table[symbol] == nil {
        throw TokenizationError.missingToken(symbol.string)
      }
    }
    model = try BPE(
      vocabulary: table, merges: merges.map { (Scalars($0.0), Scalars($0.1)) },
      options: BPE.Options(suffix: suffix))
  }

  /// The ids of one word.
  public func encode(word: String) -> [Int] {
    // Every byte's symbol is in the vocabulary and there is no unknown token: nothing throws.
    (try? model.tokenize(ByteLevelAlphabet.encode(Scalars(word)))) ?? []
  }
}
