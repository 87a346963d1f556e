/// The tables of `TextTables.swift` (generated from Python and ftfy), parsed once.
struct TextTableData: Sendable {
  /// Python's `html.entities.html5`: names (with or without ';') to replacement text.
  var html5: [String: String] = [:]
  /// `html._invalid_charrefs`: numeric references HTML5 maps elsewhere (&#128; → €).
  var invalidCharrefs: [UInt32: String] = [:]
  /// `html._invalid_codepoints`: numeric references that decode to nothing.
  var invalidCodepoints: Set<UInt32> = []
  /// ftfy's extra entities written in capitals (&NTILDE; → Ñ).
  var upperEntities: [String: String] = [:]
  var ligatures: [Unicode.Scalar: String] = [:]
  var widths: [Unicode.Scalar: String] = [:]
  var controls: Set<Unicode.Scalar> = []
  var c1: [Unicode.Scalar: String] = [:]
  /// Characters Python's `str.isspace()` accepts, which `str.split()` splits on.
  var pythonSpaces: Set<Unicode.Scalar> = []

  static let shared = TextTableData(source: textTablesSource)

  init(source: String) {
    for line in source.split(separator: "\n") {
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      guard fields.count == 3 else { continue }
      let key = Self.text(fields[1])
      let value = Self.text(fields[2])
      let code = UInt32(fields[1], radix: 16)
      let scalar = code.flatMap(Unicode.Scalar.init)
      switch fields[0] {
      case "html5": html5[key] = value
      case "charref": invalidCharrefs[code ?? 0] = value
      case "badcode": invalidCodepoints.insert(code ?? 0)
      case "upper": upperEntities[key] = value
      case "ligature": scalar.map { ligatures[$0] = value }
      case "width": scalar.map { widths[$0] = value }
      case "control": scalar.map { _ = controls.insert($0) }
      case "c1": scalar.map { c1[$0] = value }
      case "space": scalar.map { _ = pythonSpaces.insert($0) }
      default: continue
      }
    }
  }

  /// "61 6D 70" → "amp".
  private static func text(_ hexes: Substring) -> String {
    var result = String.UnicodeScalarView()
    for hex in hexes.split(separator: " ") {
      if let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) {
        result.append(scalar)
      }
    }
    return String(result)
  }
}
