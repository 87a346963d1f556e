/// GPT-2's byte-level alphabet: each UTF-8 byte becomes a printable character.
enum ByteLevelAlphabet {
  static let characters: [Unicode.Scalar] = {
    let printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var extra: UInt32 = 0
    for byte in 0..<256 {
      if printable.contains(byte) {
        table[byte] = Unicode.Scalar(UInt8(byte))
      } else {
        table[byte] = Unicode.Scalar(256 + extra)!
        extra += 1
      }
    }
    return table
  }()

  static func encode(_ text: Scalars) -> Scalars { text.utf8Bytes.map { characters[Int($0)] } }
}

/// The ByteLevel pre-tokenizer: optional leading space, GPT-2's split regex, then bytes mapped
/// to the byte-level alphabet.
struct ByteLevelPreTokenizer: PreTokenizer {
  static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
  let addPrefixSpace: Bool
  let regex: RegexSplit?

  init(_ json: JSONObject) throws {
    addPrefixSpace = json.bool("add_prefix_space", default: true)
    regex =
      json.bool("use_regex", default: true)
      ? try RegexSplit(regex: ByteLevelPreTokenizer.gpt2Pattern, behavior: .isolated, invert: false) : nil
  }

  func split(_ piece: Piece) -> [Piece] {
    var piece = piece
    if addPrefixSpace, let first = piece.text.first, first != " " { piece.text.insert(" ", at: 0) }
    let pieces = regex?.split(piece) ?? [piece]
    return pieces.map { Piece(text: ByteLevelAlphabet.encode($0.text), atStart: $0.atStart) }
  }
}
