import Catalog
import Foundation
import Hummingbird

/// `POST /v1/search`: the catalog's nearest items to a text, an image or a vector.
struct SearchRoutes {
  let state: ServerState

  func register(on router: RouteRegistrar) {
    router.post("/v1/search") { request, _ in try await search(request) }
  }

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

  struct SearchResponse: Encodable {
    var results: [SearchResult]
    var tookMilliseconds: Double

    enum CodingKeys: String, CodingKey {
      case results
      case tookMilliseconds = "took_ms"
    }
  }

  private func search(_ request: Request) async throws -> Response {
    let started = ContinuousClock.now
    let services = try state.services()
    let limits = services.limits
    let vector: [Float]
    let k: Int
    let filter: SearchFilter
    let byParent: Bool
    switch try await RequestPayload.read(request, limits: limits) {
    case .image(let data):
      let query = QueryReader(request)
      k = try validatedK(query.int("k", in: Int.min...Int.max), limits: limits)
      filter = try FilterBody.parse(query.string("filter"))
      byParent = try groupsByParent(query.string("group_by"))
      vector = try await services.embedImages([services.decodeForCLIP(data)])[0]
    case .multipart(let form):
      k = try validatedK(form.first("k")?.text.map(parseK), limits: limits)
      filter = try FilterBody.parse(form.first("filter")?.text)
      byParent = try groupsByParent(form.first("group_by")?.text)
      vector = try await services.embedImages([services.decodeForCLIP(RequestPayload.image(in: form))])[0]
    case .json(let data):
      let body = try JSONBody.decode(SearchRequest.self, from: data)
      k = try validatedK(body.k, limits: limits)
      filter = try FilterBody.parse(body.filter)
      byParent = try groupsByParent(body.groupBy)
      vector = try await queryVector(body, services: services)
    }
    let results = try await RequestTimings.measure("search") {
      byParent
        ? try await services.store.searchGroupedByParent(vector: vector, k: k, filter: filter)
        : try await services.store.search(vector: vector, k: k, filter: filter)
    }
    return JSONBody.response(
      SearchResponse(results: results, tookMilliseconds: started.duration(to: .now).milliseconds))
  }

  /// `group_by`: absent, or `parent` (one result per image).
  private func groupsByParent(_ value: String?) throws -> Bool {
    guard let value else { return false }
    guard value == "parent" else {
      throw APIError.invalidParameter("'group_by' accepts only 'parent', got '\(value)'")
    }
    return true
  }

  private func parseK(_ text: String) throws -> Int {
    guard let k = Int(text.trimmingCharacters(in: .whitespaces)) else {
      throw APIError.invalidParameter("'k' must be an integer, got '\(text)'")
    }
    return k
  }

  private func queryVector(_ body: SearchRequest, services: ModelServices) async throws -> [Float] {
    switch (body.text, body.image, body.embedding) {
    case (let text?, nil, nil):
      return try await services.embedTexts([text])[0]
    case (nil, let image?, nil):
      let data = try decodeBase64Image(image, field: "image")
      return try await services.embedImages([services.decodeForCLIP(data)])[0]
    case (nil, nil, let embedding?):
      return embedding
    default:
      throw APIError.badRequest("send exactly one of 'text', 'image' and 'embedding'")
    }
  }
}

/// A search filter as clients write it: `{"tags": [...], "metadata": {"field": value or [values]}}`.
struct FilterBody: StrictDecodable {
  static let fields: Set<String> = ["tags", "metadata"]
  var tags: [String]?
  var metadata: [String: JSONValue]?

  var searchFilter: SearchFilter {
    SearchFilter(
      tags: tags ?? [],
      metadata: (metadata ?? [:]).mapValues { value in
        if case .array(let values) = value { return values }
        return [value]
      })
  }

  /// The filter of a query parameter or form field (JSON text), empty when absent.
  static func parse(_ text: String?) throws -> SearchFilter {
    guard let text, !text.isEmpty else { return SearchFilter() }
    return try JSONBody.decode(FilterBody.self, from: Data(text.utf8)).searchFilter
  }

  /// The filter of a JSON body, checked as strictly as the body itself.
  static func parse(_ value: JSONValue?) throws -> SearchFilter {
    guard let value, value != .null else { return SearchFilter() }
    return try parse(String(decoding: JSONEncoder().encode(value), as: UTF8.self))
  }
}

extension Duration {
  var milliseconds: Double { self / .milliseconds(1) }
}
