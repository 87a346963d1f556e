import Catalog
import Foundation
import Hummingbird

/// `POST /v1/search`: the catalog's nearest items to a text, an image or a vector.
struct SearchRoutes {
  let state: ServerState

  func register(on router: RouteRegistrar) {
    router.post("/v1/search") { request, _ in try await search(request) }
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
    let payload = try await RequestPayload.read(request, limits: services.limits)
    let query = try SearchQuery(payload, request: request, limits: services.limits)
    let vector: [Float]
    switch query.input {
    case .image(let data): vector = try await services.visual.embed(images: [services.decodeForCLIP(data)])[0]
    case .text(let text): vector = try await services.embedTexts([text])[0]
    case .embedding(let embedding): vector = embedding
    }
    let results = try await RequestTimings.measure("search") {
      try await services.visual.search(
        vector: vector, k: query.k, filter: query.filter, groupByParent: query.groupByParent)
    }
    return JSONBody.response(
      SearchResponse(results: results, tookMilliseconds: started.duration(to: .now).milliseconds))
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
