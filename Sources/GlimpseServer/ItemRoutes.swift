import BlockingWork
import Catalog
import Detection
import Foundation
import Hummingbird
import Imaging
import NIOFoundationCompat
import Services

/// `/v1/items`: the catalog's items, created from an image or a precomputed embedding.
struct ItemRoutes {
  let state: ServerState

  func register(on router: RouteRegistrar) {
    router.post("/v1/items", scope: .write) { request, _ in try await create(request) }
    router.get("/v1/items") { request, _ in try await list(request) }
    router.get("/v1/items/{id}") { request, context in try await get(request, id: pathID(context)) }
    router.get("/v1/items/{id}/thumbnail") { request, context in
      try await thumbnail(request, id: pathID(context))
    }
    router.put("/v1/items/{id}", scope: .write) { request, context in
      try await replace(request, id: pathID(context))
    }
    router.delete("/v1/items/{id}", scope: .write) { _, context in try await delete(id: pathID(context)) }
  }

  /// The body of POST and PUT, from JSON or from a multipart form.
  /// The item id of the path, percent-decoded: ids are often file paths (`shoes/red x.jpg`),
  /// which clients send as `shoes%2Fred%20x.jpg`.
  private func pathID(_ context: GlimpseRequestContext) throws -> String {
    let raw = try context.parameters.require("id")
    guard let id = raw.removingPercentEncoding else {
      throw APIError.badRequest("the item id in the path is not valid percent-encoding")
    }
    return id
  }

  struct ItemRequest: StrictDecodable {
    static let fields: Set<String> = ["id", "embedding", "image", "metadata", "tags"]
    var id: String?
    var embedding: [Float]?
    var image: String?
    var metadata: [String: JSONValue]?
    var tags: [String]?
  }

  /// An item as the API shows it: the embedding only when asked for.
  struct ItemResponse: Encodable {
    var id: String
    var metadata: [String: JSONValue]
    var tags: [String]
    var createdAt: Date
    var updatedAt: Date
    var embedding: [Float]?
    var parentID: String?
    var object: ObjectRegion?
    /// The object entries stored by a POST or PUT with `objects=true`.
    var objects: [ItemResponse]?

    init(_ item: CatalogItem, includeEmbedding: Bool, objects: [CatalogItem]? = nil) {
      id = item.id
      metadata = item.metadata
      tags = item.tags
      createdAt = item.createdAt
      updatedAt = item.updatedAt
      embedding = includeEmbedding ? item.embedding : nil
      parentID = item.parentID
      object = item.object
      self.objects = objects?.map { ItemResponse($0, includeEmbedding: false) }
    }

    enum CodingKeys: String, CodingKey {
      case id, metadata, tags, embedding, object, objects
      case createdAt = "created_at"
      case updatedAt = "updated_at"
      case parentID = "parent_id"
    }
  }

  private struct ItemPageResponse: Encodable {
    var items: [ItemResponse]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
      case items
      case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(items, forKey: .items)
      try container.encode(nextCursor, forKey: .nextCursor)  // null at the end, not absent
    }
  }

  /// An atomic create (of concurrent creates of one id exactly one gets 201, the others 409),
  /// replayed under an `Idempotency-Key`.
  private func create(_ request: Request) async throws -> Response {
    let services = try state.services()
    let key = try IdempotencyKey.key(in: request)
    let maxObjects = try objectsRequested(request)
    var (item, idGiven, image) = try await parseItem(
      request, services: services, pathID: nil, fullSize: maxObjects != nil)
    item.createdAt = Date()
    item.updatedAt = item.createdAt
    let response = ItemResponse(item, includeEmbedding: false)
    let conflict = APIError(
      .conflict, "conflict", "an item with id '\(item.id)' exists: PUT /v1/items/{id} replaces it")
    let idempotency = key.map {
      IdempotencyKey.request(
        key: $0, fingerprint: CreateFingerprint(item, idGiven: idGiven), created: response, conflict: conflict
      )
    }
    switch try await services.store.create(item, idempotency: idempotency) {
    case .created:
      let objects = try await storeObjects(of: item, image: image, maxObjects: maxObjects, services: services)
      return JSONBody.response(
        ItemResponse(item, includeEmbedding: false, objects: objects), status: .created)
    case .exists: throw conflict
    case .replayed(let answer): return IdempotencyKey.replay(answer)
    case .keyReused: throw IdempotencyKey.reused
    }
  }

  /// What a create asked for, to tell a retry (same fingerprint) from another request under the
  /// same key: a generated id is left out (a retry generates another), and so is an embedding
  /// computed from an image (its content hash stands for it).
  private struct CreateFingerprint: Encodable {
    var id: String?
    var embedding: [Float]?
    var contentHash: String?
    var metadata: [String: JSONValue]
    var tags: [String]

    init(_ item: CatalogItem, idGiven: Bool) {
      id = idGiven ? item.id : nil
      embedding = item.contentHash == nil ? item.embedding : nil
      contentHash = item.contentHash
      metadata = item.metadata
      tags = item.tags
    }
  }

  private func replace(_ request: Request, id: String) async throws -> Response {
    let services = try state.services()
    let maxObjects = try objectsRequested(request)
    var (item, _, image) = try await parseItem(
      request, services: services, pathID: try validatedID(id), fullSize: maxObjects != nil)
    let existing = try await services.store.get(id: item.id)
    item.createdAt = existing?.createdAt ?? Date()
    item.updatedAt = Date()
    try await services.store.upsert([item])
    let objects = try await storeObjects(of: item, image: image, maxObjects: maxObjects, services: services)
    return JSONBody.response(
      ItemResponse(item, includeEmbedding: false, objects: objects), status: existing == nil ? .created : .ok)
  }

  private func get(_ request: Request, id: String) async throws -> Response {
    let services = try state.services()
    let include = QueryReader(request).list("include") ?? []
    if let unknown = include.first(where: { $0 != "embedding" }) {
      throw APIError.invalidParameter("'include' accepts only 'embedding', got '\(unknown)'")
    }
    guard let item = try await services.store.get(id: id) else {
      throw APIError.notFound("no item with id '\(id)'")
    }
    return JSONBody.response(ItemResponse(item, includeEmbedding: include.contains("embedding")))
  }

  /// The item's thumbnail as JPEG; its ETag is the content hash it was made from, so a browser
  /// revalidates cheaply and sees a new picture when the item gets another image.
  private func thumbnail(_ request: Request, id: String) async throws -> Response {
    let services = try state.services()
    guard let item = try await services.store.get(id: id) else {
      throw APIError.notFound("no item with id '\(id)'")
    }
    guard let image = try await services.store.thumbnail(id: id), let hash = item.contentHash else {
      throw APIError.notFound(
        "item '\(id)' has no thumbnail (made from an embedding, or indexed with --no-thumbnails)")
    }
    let etag = "\"\(hash)\""
    var headers: HTTPFields = [
      .contentType: "image/jpeg", .eTag: etag, .cacheControl: "private, max-age=3600",
    ]
    if request.headers[.ifNoneMatch] == etag {
      headers[.contentType] = nil
      return Response(status: .notModified, headers: headers)
    }
    headers[.contentLength] = String(image.count)
    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(data: image)))
  }

  private func delete(id: String) async throws -> Response {
    let services = try state.services()
    guard try await services.store.delete(id: id) else { throw APIError.notFound("no item with id '\(id)'") }
    return Response(status: .noContent)
  }

  private func list(_ request: Request) async throws -> Response {
    let services = try state.services()
    let query = QueryReader(request)
    let limit = try query.int("limit", in: 1...services.limits.maxResults) ?? 50
    let page = try await services.store.list(cursor: query.string("cursor"), limit: limit)
    return JSONBody.response(
      ItemPageResponse(
        items: page.items.map { ItemResponse($0, includeEmbedding: false) }, nextCursor: page.nextCursor))
  }

  // MARK: Parsing

  /// The item of a POST or PUT, and whether its id was sent (rather than generated).
  /// With `fullSize` (objects wanted) the image is decoded at full size, for the detector, and
  /// returned with the item.
  private func parseItem(_ request: Request, services: ModelServices, pathID: String?, fullSize: Bool)
    async throws -> (item: CatalogItem, idGiven: Bool, image: RGBImage?)
  {
    let body: ItemRequest
    var imageData: Data?
    switch try await RequestPayload.read(request, limits: services.limits) {
    case .image:
      throw APIError.unsupportedMediaType(
        "an item needs metadata: send multipart/form-data (image + metadata) or JSON")
    case .multipart(let form):
      imageData = try RequestPayload.image(in: form)
      body = ItemRequest(
        id: form.first("id")?.text, embedding: nil, image: nil,
        metadata: try form.first("metadata")?.text.map(parseMetadata),
        tags: form.first("tags")?.text.map(parseTags))
    case .json(let data):
      body = try JSONBody.decode(ItemRequest.self, from: data)
      imageData = try body.image.map { try decodeBase64Image($0, field: "image") }
    }
    if let pathID, let bodyID = body.id, bodyID != pathID {
      throw APIError.invalidParameter("the body's id '\(bodyID)' differs from the path's '\(pathID)'")
    }
    let id = try validatedID(pathID ?? body.id ?? UUID().uuidString.lowercased())
    if fullSize, imageData == nil {
      throw APIError.badRequest("objects=true needs an image to detect objects in, not an embedding")
    }
    let (embedding, thumbnail, image) = try await itemEmbedding(
      body.embedding, image: imageData, services: services, fullSize: fullSize)
    let item = CatalogItem(
      id: id, embedding: embedding, metadata: body.metadata ?? [:], tags: body.tags ?? [],
      sourcePath: nil, contentHash: imageData.map(ContentHash.sha256Hex), thumbnail: thumbnail)
    return (item, pathID != nil || body.id != nil, image)
  }

  /// The item's embedding, given or computed from its image, and the image's thumbnail.
  private func itemEmbedding(_ embedding: [Float]?, image: Data?, services: ModelServices, fullSize: Bool)
    async throws -> (embedding: [Float], thumbnail: Data?, image: RGBImage?)
  {
    switch (embedding, image) {
    case (let embedding?, nil):
      return (try validatedVector(embedding, dimension: services.store.dimension), nil, nil)
    case (nil, let image?):
      let decoded =
        fullSize ? try await services.decodeImage(image) : try await services.decodeForCLIP(image)
      async let thumbnail =
        state.configuration.thumbnails ? try? offload { try Thumbnail.jpeg(of: decoded) } : nil
      let embedding = try await services.visual.embed(images: [decoded])[0]
      return (embedding, await thumbnail, decoded)
    default:
      throw APIError.badRequest("send exactly one of 'embedding' and 'image'")
    }
  }

  // MARK: Objects inside the item's image

  /// The most objects to store when `?objects=true` (`max_objects`, default 16), else nil.
  private func objectsRequested(_ request: Request) throws -> Int? {
    let query = QueryReader(request)
    let maxObjects = try query.int("max_objects", in: 1...300)
    guard try query.bool("objects") == true else {
      if maxObjects != nil { throw APIError.invalidParameter("'max_objects' goes with 'objects=true'") }
      return nil
    }
    return maxObjects ?? 16
  }

  /// Detects the objects in the item's image (through the server's detector and CLIP batchers)
  /// and stores them in place of its old ones; nil when objects were not asked for.
  private func storeObjects(
    of item: CatalogItem, image: RGBImage?, maxObjects: Int?, services: ModelServices
  ) async throws -> [CatalogItem]? {
    guard let maxObjects, let image else { return nil }
    var options = DetectionOptions()
    options.maxDetections = maxObjects
    return try await services.objects.replaceObjects(
      of: item, image: image, options: options,
      crops: services.visual.cropSearch(maxBatch: services.limits.maxBatch))
  }

  private func validatedID(_ id: String) throws -> String {
    guard !id.isEmpty, id.utf8.count <= 256,
      !id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
    else {
      throw APIError.badRequest("an item id must be 1 to 256 bytes without control characters")
    }
    return id
  }

  private func parseMetadata(_ text: String) throws -> [String: JSONValue] {
    do {
      return try JSONValue.object(fromJSON: Data(text.utf8))
    } catch {
      throw APIError.badRequest("the 'metadata' field must be a JSON object")
    }
  }

  private func parseTags(_ text: String) -> [String] {
    ListParsing.jsonArrayOrCommaSeparated(text)
  }
}
