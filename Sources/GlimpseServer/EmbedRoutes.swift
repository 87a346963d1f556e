import CLIP
import Foundation
import Hummingbird
import Imaging

/// `POST /v1/embed` and `POST /v1/classify`: CLIP embeddings and zero-shot labels.
struct EmbedRoutes {
  let state: ServerState

  func register(on router: RouteRegistrar) {
    router.post("/v1/embed") { request, _ in try await embed(request) }
    router.post("/v1/classify") { request, _ in try await classify(request) }
  }

  private struct EmbedResponse: Encodable {
    var model: String
    var dim: Int
    var embeddings: [[Float]]
  }

  private func embed(_ request: Request) async throws -> Response {
    let services = try state.services()
    let payload = try await RequestPayload.read(request, limits: services.limits)
    let embeddings: [[Float]]
    switch try EmbedQuery(payload, limits: services.limits).input {
    case .images(let images):
      embeddings = try await services.visual.embed(images: services.decodeAllForCLIP(images))
    case .texts(let texts): embeddings = try await services.embedTexts(texts)
    }
    return JSONBody.response(
      EmbedResponse(model: services.models.clipName, dim: services.clip.dimension, embeddings: embeddings))
  }

  // MARK: Classify

  struct ClassifyRequest: StrictDecodable {
    static let fields: Set<String> = ["image", "labels"]
    var image: String
    var labels: [String]
  }

  private struct LabelProbability: Encodable {
    var label: String
    var probability: Float
  }

  private struct ClassifyResponse: Encodable {
    var labels: [LabelProbability]
  }

  private func classify(_ request: Request) async throws -> Response {
    let services = try state.services()
    let (imageData, labels) = try await classifyInput(request, limits: services.limits)
    guard !labels.isEmpty else {
      throw APIError.badRequest("no labels: send 'labels' (comma-separated or a JSON array)")
    }
    try services.limits.checkBatch(labels.count)
    let image = try await services.decodeForCLIP(imageData)
    async let imageEmbedding = services.visual.embed(images: [image])
    async let labelEmbeddings = services.embedTexts(labels)
    let probabilities = try await services.clip.zeroShotProbabilities(
      image: imageEmbedding[0], labels: labelEmbeddings)
    let ranked = zip(labels, probabilities).map { LabelProbability(label: $0, probability: $1) }
      .sorted { $0.probability > $1.probability }
    return JSONBody.response(ClassifyResponse(labels: ranked))
  }

  private func classifyInput(_ request: Request, limits: RequestLimits) async throws -> (Data, [String]) {
    switch try await RequestPayload.read(request, limits: limits) {
    case .image(let data):
      return (data, QueryReader(request).list("labels") ?? [])
    case .multipart(let form):
      return (try RequestPayload.image(in: form), parseLabels(form.first("labels")?.text ?? ""))
    case .json(let data):
      let body = try JSONBody.decode(ClassifyRequest.self, from: data)
      return (try decodeBase64Image(body.image, field: "image"), body.labels)
    }
  }

  /// Labels as a JSON array or comma-separated text.
  private func parseLabels(_ text: String) -> [String] {
    ListParsing.jsonArrayOrCommaSeparated(text)
  }
}
