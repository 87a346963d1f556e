import Catalog
import Foundation

/// Metadata for indexed files, keyed by their path relative to the indexed folder, read
/// from `--metadata-from`:
/// - JSON: `{"shoes/red.jpg": {"color": "red"}, …}` or `[{"path": "shoes/red.jpg", "color": "red"}, …]`;
/// - CSV: a header row with a `path` column; every other column becomes a field, a cell that
///   reads as a JSON number or boolean becomes one (so `--filter size=42` matches), an empty
///   cell is left out.
enum MetadataSidecar {
  static func load(_ path: String) throws -> [String: [String: JSONValue]] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CLIError("cannot read metadata file \(path)")
    }
    if path.lowercased().hasSuffix(".csv") {
      return try fromCSV(String(decoding: data, as: UTF8.self), file: path)
    }
    return try fromJSON(data, file: path)
  }

  static func fromJSON(_ data: Data, file: String) throws -> [String: [String: JSONValue]] {
    let root: JSONValue
    do {
      root = try JSONDecoder().decode(JSONValue.self, from: data)
    } catch {
      throw CLIError("\(file) is not valid JSON: \(error)")
    }
    switch root {
    case .object(let entries):
      return try entries.mapValues { value in
        guard case .object(let fields) = value else {
          throw CLIError("\(file): metadata for each path must be a JSON object")
        }
        return fields
      }
    case .array(let rows):
      var result: [String: [String: JSONValue]] = [:]
      for row in rows {
        guard case .object(var fields) = row, case .string(let path)? = fields.removeValue(forKey: "path")
        else { throw CLIError("\(file): each entry must be an object with a \"path\" string") }
        result[path] = fields
      }
      return result
    default:
      throw CLIError("\(file): expected a JSON object keyed by path, or an array of objects")
    }
  }

  static func fromCSV(_ text: String, file: String) throws -> [String: [String: JSONValue]] {
    let rows = CSVParser.rows(text)
    guard let header = rows.first, let pathColumn = header.firstIndex(of: "path") else {
      throw CLIError("\(file): the CSV header needs a \"path\" column")
    }
    var result: [String: [String: JSONValue]] = [:]
    for (number, row) in rows.dropFirst().enumerated() where !(row.count == 1 && row[0].isEmpty) {
      guard row.count == header.count else {
        throw CLIError("\(file): row \(number + 2) has \(row.count) cells, the header has \(header.count)")
      }
      var fields: [String: JSONValue] = [:]
      for (column, name) in header.enumerated() where column != pathColumn && !row[column].isEmpty {
        fields[name] = typedCell(row[column])
      }
      result[row[pathColumn]] = fields
    }
    return result
  }

  private static func typedCell(_ cell: String) -> JSONValue {
    if cell == "true" { return .bool(true) }
    if cell == "false" { return .bool(false) }
    if let number = Double(cell), number.isFinite { return .number(number) }
    return .string(cell)
  }
}

/// RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and newlines.
enum CSVParser {
  static func rows(_ text: String) -> [[String]] {
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var quoted = false
    var characters = text.makeIterator()
    while let character = characters.next() {
      if quoted {
        if character == "\"" {
          if let following = characters.next() {
            if following == "\"" {
              field.append("\"")
            } else {
              quoted = false
              consume(following, &row, &rows, &field, &quoted)
            }
          } else {
            quoted = false
          }
        } else {
          field.append(character)
        }
      } else {
        consume(character, &row, &rows, &field, &quoted)
      }
    }
    if !field.isEmpty || !row.isEmpty {
      row.append(field)
      rows.append(row)
    }
    return rows
  }

  private static func consume(
    _ character: Character, _ row: inout [String], _ rows: inout [[String]], _ field: inout String,
    _ quoted: inout Bool
  ) {
    switch character {
    case "\"" where field.isEmpty: quoted = true
    case ",":
      row.append(field)
      field = ""
    case "\n", "\r\n", "\r":
      row.append(field)
      rows.append(row)
      row = []
      field = ""
    default: field.append(character)
    }
  }
}
