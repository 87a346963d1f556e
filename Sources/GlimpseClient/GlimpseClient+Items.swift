import Foundation
import OpenAPIRuntime

/// The catalog's items: create, read, replace, delete, list.
extension GlimpseClient {
  /// Adds an item from an image (embedded by the server). Without `id` the server makes one
  /// (a UUID); an `id` that exists is a 409 `conflict`. An `idempotencyKey` makes retries safe.
  public func createItem(
    id: String? = nil, image: Data, metadata: GlimpseMetadata? = nil, tags: [String]? = nil,
    idempotencyKey: String? = nil
  ) async throws -> GlimpseItem {
    let body = Components.Schemas.ItemWrite.case2(
      .init(id: id, image: Base64EncodedData(image), metadata: metadata, tags: tags))
    return try await create(body, idempotencyKey: idempotencyKey)
  }

  /// Adds an item from an embedding computed elsewhere (the catalog's dimension).
  public func createItem(
    id: String? = nil, embedding: [Float], metadata: GlimpseMetadata? = nil, tags: [String]? = nil,
    idempotencyKey: String? = nil
  ) async throws -> GlimpseItem {
    let body = Components.Schemas.ItemWrite.case1(
      .init(id: id, embedding: embedding.map(Double.init), metadata: metadata, tags: tags))
    return try await create(body, idempotencyKey: idempotencyKey)
  }

  private func create(_ body: Components.Schemas.ItemWrite, idempotencyKey: String?) async throws
    -> GlimpseItem
  {
    try await call {
      try await raw.createItem(headers: .init(idempotencyKey: idempotencyKey), body: .json(body)).created.body
        .json
    }
  }

  /// The item; with `includeEmbedding` its stored (L2-normalized) vector too.
  public func item(id: String, includeEmbedding: Bool = false) async throws -> GlimpseItem {
    try await call {
      try await raw.getItem(path: .init(id: id), query: .init(include: includeEmbedding ? .embedding : nil))
        .ok.body.json
    }
  }

  /// Replaces the item's image, metadata and tags (creating it if absent).
  public func replaceItem(
    id: String, image: Data, metadata: GlimpseMetadata? = nil, tags: [String]? = nil
  ) async throws -> GlimpseItem {
    let body = Components.Schemas.ItemWrite.case2(
      .init(id: id, image: Base64EncodedData(image), metadata: metadata, tags: tags))
    return try await call {
      switch try await raw.replaceItem(path: .init(id: id), body: .json(body)) {
      case .ok(let replaced): try replaced.body.json
      case .created(let created): try created.body.json
      case let other: throw GlimpseClientError(status: 0, code: "unexpected", message: "\(other)")
      }
    }
  }

  /// The item's thumbnail, a JPEG whose longest side is at most 256 pixels (items made from an
  /// image only: otherwise the server's 404 as `GlimpseClientError`).
  public func thumbnail(id: String) async throws -> Data {
    try await call {
      try await Data(collecting: raw.getItemThumbnail(path: .init(id: id)).ok.body.jpeg, upTo: 4 << 20)
    }
  }

  public func deleteItem(id: String) async throws {
    _ = try await call { try await raw.deleteItem(path: .init(id: id)).noContent }
  }

  /// A page of items in id order; pass the page's `nextCursor` for the next one.
  public func items(cursor: String? = nil, limit: Int? = nil) async throws -> GlimpseItemPage {
    try await call { try await raw.listItems(query: .init(cursor: cursor, limit: limit)).ok.body.json }
  }
}
