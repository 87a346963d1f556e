import Foundation
import Hummingbird

/// `POST /v1/embeddings` and `GET /v1/models` in OpenAI's shapes, so that tools written for
/// OpenAI's embeddings API (the `openai` packages, LangChain, LlamaIndex, vector databases)
/// use Glimpse as they are. Images go through the same route as Infinity and vLLM take them:
/// `"modality": "image"` with `data:` URIs as inputs. Errors use OpenAI's shape.
struct OpenAIRoutes {
  let state: ServerState

  func register(on router: RouteRegistrar) {
    router.post("/v1/embeddings", errors: .openAI) { request, _ in try await embeddings(request) }
    router.get("/v1/models", errors: .openAI) { _, _ in try models() }
  }

  // MARK: Embeddings

  private func embeddings(_ request: Request) async throws -> Response {
    let services = try state.services()
    guard case .json(let data) = try await RequestPayload.read(request, limits: services.limits) else {
      throw APIError.unsupportedMediaType(
        "send the request as application/json (OpenAI's embeddings request)")
    }
    let body = try JSONBody.decode(OpenAIEmbeddingsRequest.self, from: data)
    try check(body, services: services)
    let inputs = body.input.strings
    try services.limits.checkBatch(inputs.count)
    let vectors: [[Float]]
    let tokens: Int
    switch body.modality ?? .text {
    case .text:
      vectors = try await services.embedTexts(inputs)
      tokens = try inputs.reduce(0) { $0 + (try services.clip.fedTokenCount($1)) }
    case .image:
      var bytes: [Data] = []
      for (index, input) in inputs.enumerated() {
        bytes.append(try await imageBytes(input, param: "input[\(index)]"))
      }
      vectors = try await services.visual.embed(images: services.decodeAllForCLIP(bytes))
      tokens = 0
    }
    let format = body.encodingFormat ?? .float
    return JSONBody.response(
      OpenAIEmbeddingsResponse(
        data: vectors.enumerated().map { .init(index: $0, embedding: .init($1, format: format)) },
        model: services.models.clipName,
        usage: .init(promptTokens: tokens, totalTokens: tokens)))
  }

  /// The model must be the loaded CLIP model; `dimensions` only its own dimension.
  private func check(_ body: OpenAIEmbeddingsRequest, services: ModelServices) throws {
    let name = services.models.clipName
    guard body.model == name else {
      throw APIError.openAI(
        .notFound, "model_not_found",
        "the model '\(body.model)' is not served here: this server embeds with '\(name)' (GET /v1/models)",
        param: "model")
    }
    if let dimensions = body.dimensions, dimensions != services.clip.dimension {
      throw APIError.openAI(
        .badRequest, "unsupported_parameter",
        "'dimensions' cannot be \(dimensions): CLIP embeddings are not truncatable, '\(name)' gives \(services.clip.dimension) dimensions only",
        param: "dimensions")
    }
  }

  /// The image bytes of a `data:` URI (base64), or of a URL on a host `--allow-image-urls`
  /// names (fetched one after the other). Without the flag URLs are refused: the server would
  /// otherwise be a proxy into whatever network it sits in.
  private func imageBytes(_ input: String, param: String) async throws -> Data {
    let lowered = input.prefix(8).lowercased()
    guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
      return try Self.dataURIBytes(input, param: param)
    }
    let fetcher = ImageURLFetcher(
      allowedHosts: state.configuration.imageURLHosts, maxBytes: state.configuration.limits.maxBodyBytes)
    return try await fetcher.fetch(input, param: param)
  }

  /// The bytes of a base64 `data:` URI.
  static func dataURIBytes(_ input: String, param: String) throws -> Data {
    let lowered = input.prefix(8).lowercased()
    guard lowered.hasPrefix("data:"), let comma = input.firstIndex(of: ","),
      input[..<comma].lowercased().hasSuffix(";base64")
    else {
      throw APIError.openAI(
        .badRequest, "invalid_image",
        "\(param) must be a base64 data: URI (data:image/jpeg;base64,...), or a URL of a host --allow-image-urls names, when 'modality' is 'image'",
        param: param)
    }
    guard
      let data = Data(
        base64Encoded: String(input[input.index(after: comma)...]), options: .ignoreUnknownCharacters),
      !data.isEmpty
    else {
      throw APIError.openAI(
        .badRequest, "invalid_image", "\(param): the data: URI's base64 is not valid", param: param)
    }
    return data
  }

  // MARK: Models

  private func models() throws -> Response {
    let services = try state.services()
    // The CLIP model first: tools that take the first listed model get the embedding model.
    var names = [services.models.clipName]
    for status in services.models.statuses where !names.contains(status.name) { names.append(status.name) }
    let created = Int(Date().timeIntervalSince1970 - (state.startedAt.duration(to: .now) / .seconds(1)))
    return JSONBody.response(
      OpenAIModelList(data: names.map { OpenAIModel(id: $0, created: created) }))
  }
}

extension APIError {
  /// An error with the request field at fault (OpenAI's `param`).
  static func openAI(_ status: HTTPResponse.Status, _ code: String, _ message: String, param: String?)
    -> APIError
  {
    var error = APIError(status, code, message)
    error.param = param
    return error
  }
}
