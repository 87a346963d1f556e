import Foundation

/// A parsed `multipart/form-data` body (RFC 7578): the parts by field name, in order.
struct MultipartForm {
  struct Part {
    var name: String
    var filename: String?
    var contentType: String?
    var data: Data

    var text: String? { String(data: data, encoding: .utf8) }
  }

  var parts: [Part]

  func first(_ name: String) -> Part? { parts.first { $0.name == name } }
  func all(_ name: String) -> [Part] { parts.filter { $0.name == name } }

  /// Parses `body` given the request's `Content-Type` (which carries the boundary).
  init(body: Data, contentType: String) throws {
    guard let boundary = Self.boundary(in: contentType) else {
      throw APIError.badRequest("multipart/form-data without a boundary parameter")
    }
    let delimiter = Data("--\(boundary)".utf8)
    var sections = Self.split(body, by: delimiter)
    // Before the first delimiter is a preamble; after the last ("--") an epilogue.
    guard sections.count >= 2, sections.last.map({ $0.starts(with: Data("--".utf8)) }) == true else {
      throw APIError.badRequest("malformed multipart body: no closing boundary")
    }
    sections.removeFirst()
    sections.removeLast()
    parts = try sections.map(Self.part)
  }

  private static func boundary(in contentType: String) -> String? {
    for parameter in contentType.split(separator: ";").dropFirst() {
      let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      if pair.count == 2, pair[0].lowercased() == "boundary" {
        let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return value.isEmpty ? nil : value
      }
    }
    return nil
  }

  private static func split(_ data: Data, by delimiter: Data) -> [Data] {
    var sections: [Data] = []
    var start = data.startIndex
    while let range = data.range(of: delimiter, in: start..<data.endIndex) {
      sections.append(data[start..<range.lowerBound])
      start = range.upperBound
    }
    sections.append(data[start..<data.endIndex])
    return sections
  }

  /// One section between delimiters: CRLF, headers, a blank line, the content, CRLF.
  private static func part(_ section: Data) throws -> Part {
    let crlf = Data("\r\n".utf8)
    guard let headerEnd = section.range(of: Data("\r\n\r\n".utf8)) else {
      throw APIError.badRequest("malformed multipart part: no blank line after its headers")
    }
    let headerText = String(decoding: section[section.startIndex..<headerEnd.lowerBound], as: UTF8.self)
    var content = section[headerEnd.upperBound..<section.endIndex]
    if content.suffix(2) == crlf { content = content.dropLast(2) }
    var name: String?
    var filename: String?
    var contentType: String?
    for line in headerText.components(separatedBy: "\r\n") {
      let pieces = line.split(separator: ":", maxSplits: 1)
      guard pieces.count == 2 else { continue }
      let value = pieces[1].trimmingCharacters(in: .whitespaces)
      switch pieces[0].lowercased() {
      case "content-disposition":
        name = parameter("name", in: value)
        filename = parameter("filename", in: value)
      case "content-type": contentType = value
      default: break
      }
    }
    guard let name else { throw APIError.badRequest("multipart part without a field name") }
    return Part(name: name, filename: filename, contentType: contentType, data: Data(content))
  }

  private static func parameter(_ key: String, in disposition: String) -> String? {
    for item in disposition.split(separator: ";").dropFirst() {
      let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      if pair.count == 2, pair[0].lowercased() == key {
        return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
      }
    }
    return nil
  }
}
