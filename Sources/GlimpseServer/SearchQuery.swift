import Catalog
import Foundation
import Hummingbird

/// A search as `POST /v1/search` runs it, built once from any payload kind (a raw image with a
/// query string, a multipart form, JSON) and validated once against the request limits: what
/// to search with, how many results, the filter and the grouping.
struct SearchQuery {
  /// What the query vector comes from.
  enum Input {
    case image(Data)
    case text(String)
    case embedding([Float])
  }

  var input: Input
  var k: Int
  var filter: SearchFilter
  var groupByParent: Bool

  /// The one validation of the settings, whatever the payload: `k` within the result limit
  /// (10 when absent), `filter` as strict JSON, `group_by` absent or `parent`. `input` is read
  /// after them, in this order, so that errors come in the order they always did (a bad
  /// setting before a bad image).
  private init(
    k: Int?, filter: () throws -> SearchFilter, groupBy: String?, limits: RequestLimits,
    input: () throws -> Input
  ) throws {
    self.k = try validatedK(k, limits: limits)
    self.filter = try filter()
    groupByParent = try Self.groupsByParent(groupBy)
    self.input = try input()
  }

  /// The query of a request whose payload has been read.
  init(_ payload: RequestPayload, request: Request, limits: RequestLimits) throws {
    switch payload {
    case .image(let data):
      let query = QueryReader(request)
      try self.init(
        k: query.int("k", in: Int.min...Int.max), filter: { try FilterBody.parse(query.string("filter")) },
        groupBy: query.string("group_by"), limits: limits
      ) { .image(data) }
    case .multipart(let form):
      try self.init(
        k: form.first("k")?.text.map(Self.parseK),
        filter: { try FilterBody.parse(form.first("filter")?.text) },
        groupBy: form.first("group_by")?.text, limits: limits
      ) { .image(try RequestPayload.image(in: form)) }
    case .json(let data):
      let body = try JSONBody.decode(SearchRequest.self, from: data)
      try self.init(
        k: body.k, filter: { try FilterBody.parse(body.filter) }, groupBy: body.groupBy, limits: limits
      ) { try Self.input(of: body) }
    }
  }

  /// Exactly one of `text`, `image` (base64) and `embedding`.
  private static func input(of body: SearchRequest) throws -> Input {
    switch (body.text, body.image, body.embedding) {
    case (let text?, nil, nil): return .text(text)
    case (nil, let image?, nil): return .image(try decodeBase64Image(image, field: "image"))
    case (nil, nil, let embedding?): return .embedding(embedding)
    default: throw APIError.badRequest("send exactly one of 'text', 'image' and 'embedding'")
    }
  }

  /// `group_by`: absent, or `parent` (one result per image).
  private static func groupsByParent(_ value: String?) throws -> Bool {
    guard let value else { return false }
    guard value == "parent" else {
      throw APIError.invalidParameter("'group_by' accepts only 'parent', got '\(value)'")
    }
    return true
  }

  private static func parseK(_ text: String) throws -> Int {
    guard let k = Int(text.trimmingCharacters(in: .whitespaces)) else {
      throw APIError.invalidParameter("'k' must be an integer, got '\(text)'")
    }
    return k
  }
}

/// A search request as JSON.
struct SearchRequest: StrictDecodable {
  static let fields: Set<String> = ["text", "image", "embedding", "k", "filter", "group_by"]
  var text: String?
  var image: String?
  var embedding: [Float]?
  var k: Int?
  var filter: JSONValue?
  var groupBy: String?

  enum CodingKeys: String, CodingKey {
    case text, image, embedding, k, filter
    case groupBy = "group_by"
  }
}
