import Catalog
import Foundation

/// The parsers a request's bytes reach before any model runs, callable on raw bytes so that the
/// fuzz targets (`Fuzz/`) and the regression replay test can feed them arbitrary input. Each
/// returns or throws (an error is a 4xx for the client); a trap or a memory error is the bug.
package enum RequestParsing {
  /// A multipart body: the first line of `input` is the `Content-Type` value (the fuzzer
  /// varies the boundary too), the rest is the body; then the fields the routes read.
  package static func multipart(_ input: Data) throws {
    let newline = input.firstIndex(of: UInt8(ascii: "\n")) ?? input.endIndex
    let contentType = String(decoding: input[input.startIndex..<newline], as: UTF8.self)
    let body = newline < input.endIndex ? Data(input[(newline + 1)...]) : Data()
    let form = try MultipartForm(body: body, contentType: contentType)
    _ = form.first("image")?.data.count
    _ = form.first("k")?.text
    _ = try FilterBody.parse(form.first("filter")?.text)
  }

  /// A JSON request body, as every JSON route decodes it (strict: unknown fields refused); each
  /// body type is tried, so one input reaches all of them.
  package static func jsonBodies(_ input: Data) {
    _ = try? JSONBody.decode(ItemRoutes.ItemRequest.self, from: input)
    _ = try? JSONBody.decode(EmbedRequest.self, from: input)
    _ = try? JSONBody.decode(EmbedRoutes.ClassifyRequest.self, from: input)
    _ = try? JSONBody.decode(DetectRequest.self, from: input)
    if let search = try? JSONBody.decode(SearchRequest.self, from: input) {
      _ = try? FilterBody.parse(search.filter)
    }
  }

  /// A URL query string, and its `filter` parameter as the search route reads it.
  package static func query(_ input: Data) throws {
    let parameters = QueryReader.parse(String(decoding: input, as: UTF8.self))
    _ = try FilterBody.parse(parameters["filter"])
  }

  /// A catalog filter given as JSON text (query parameter or form field).
  package static func filter(_ input: Data) throws -> SearchFilter {
    try FilterBody.parse(String(decoding: input, as: UTF8.self))
  }

  /// An AR stream settings message (a WebSocket text frame), decoded as the stream decodes it.
  package static func arSettings(_ input: Data) throws {
    let text = String(decoding: input, as: UTF8.self)
    _ = try JSONBody.decode(ARStreamSession.SettingsMessage.self, from: Data(text.utf8))
  }
}
