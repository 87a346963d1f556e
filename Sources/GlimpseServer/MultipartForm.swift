import Foundation
import MultipartKit
import NIOCore

/// A parsed `multipart/form-data` body (RFC 7578): the parts by field name, in order.
///
/// The bytes go through vapor/multipart-kit's streaming parser, which reads each byte once,
/// so parsing time is linear in the body size whatever its shape. The parser itself puts no
/// bound on the number of parts or on header sizes, so the body is fed in slices and the
/// bounds below are checked between slices: a body of 400,000 empty parts is refused after
/// its first few kilobytes.
struct MultipartForm {
  struct Part {
    var name: String
    var filename: String?
    var contentType: String?
    var data: Data

    var text: String? { String(data: data, encoding: .utf8) }
  }

  /// Bounds on a form's shape; the body's size is bounded before parsing (`RequestLimits`).
  struct Limits {
    /// Most parts in one form: the API's forms have an image field per image (up to the
    /// batch limit) plus a few settings.
    var maxParts = 64
    /// Most bytes of headers per part.
    var maxHeaderBytes = 8 * 1024
  }

  var parts: [Part]

  func first(_ name: String) -> Part? { parts.first { $0.name == name } }
  func all(_ name: String) -> [Part] { parts.filter { $0.name == name } }

  /// Parses `body` given the request's `Content-Type` (which carries the boundary).
  init(body: Data, contentType: String, limits: Limits = Limits()) throws {
    guard let boundary = Self.boundary(in: contentType) else {
      throw APIError.badRequest("multipart/form-data without a boundary parameter")
    }
    let collector = PartCollector(limits: limits)
    let parser = MultipartParser(boundary: boundary)
    parser.onHeader = collector.header
    parser.onBody = collector.body
    parser.onPartComplete = collector.complete
    let sliceSize = 16 * 1024
    var offset = body.startIndex
    while offset < body.endIndex {
      let end = body.index(offset, offsetBy: sliceSize, limitedBy: body.endIndex) ?? body.endIndex
      do {
        try parser.execute(ByteBuffer(bytes: body[offset..<end]))
      } catch {
        throw APIError.badRequest("malformed multipart body: a part's headers or boundary are invalid")
      }
      if let problem = collector.problem { throw APIError.badRequest(problem) }
      offset = end
    }
    guard !collector.parts.isEmpty, body.range(of: Data("--\(boundary)--".utf8), options: .backwards) != nil
    else {
      throw APIError.badRequest("malformed multipart body: no closing boundary")
    }
    parts = try collector.parts.map(Self.part)
  }

  /// The boundary parameter of a `Content-Type`; RFC 2046 allows 1 to 70 characters.
  private static func boundary(in contentType: String) -> String? {
    for parameter in contentType.split(separator: ";").dropFirst() {
      let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      if pair.count == 2, pair[0].lowercased() == "boundary" {
        let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return (1...70).contains(value.utf8.count) ? value : nil
      }
    }
    return nil
  }

  /// A collected part with its `Content-Disposition` read.
  private static func part(_ raw: PartCollector.RawPart) throws -> Part {
    var name: String?
    var filename: String?
    var contentType: String?
    for (header, value) in raw.headers {
      switch header.lowercased() {
      case "content-disposition":
        name = parameter("name", in: value)
        filename = parameter("filename", in: value)
      case "content-type": contentType = value
      default: break
      }
    }
    guard let name else { throw APIError.badRequest("multipart part without a field name") }
    return Part(name: name, filename: filename, contentType: contentType, data: raw.data)
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

/// Receives the parser's callbacks and keeps the parts, noting the first bound crossed.
private final class PartCollector {
  struct RawPart {
    var headers: [(String, String)] = []
    var headerBytes = 0
    var data = Data()
  }

  let limits: MultipartForm.Limits
  private(set) var parts: [RawPart] = []
  private(set) var problem: String?
  private var current = RawPart()

  init(limits: MultipartForm.Limits) { self.limits = limits }

  func header(_ name: String, _ value: String) {
    current.headers.append((name, value))
    current.headerBytes += name.utf8.count + value.utf8.count
    if current.headerBytes > limits.maxHeaderBytes {
      problem = problem ?? "a multipart part has over \(limits.maxHeaderBytes) bytes of headers"
    }
  }

  func body(_ buffer: inout ByteBuffer) {
    current.data.append(contentsOf: buffer.readableBytesView)
  }

  /// Called at every boundary after the first.
  func complete() {
    parts.append(current)
    current = RawPart()
    if parts.count > limits.maxParts {
      problem = problem ?? "a multipart body may have at most \(limits.maxParts) parts"
    }
  }
}
