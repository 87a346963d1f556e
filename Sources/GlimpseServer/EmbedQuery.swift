import Foundation

/// An embedding request as `POST /v1/embed` runs it, built once from any payload kind (a raw
/// image, a multipart form of `image` parts, JSON `images` or `texts`), its batch checked once
/// against the request limits before any image is decoded.
struct EmbedQuery {
  enum Input {
    /// Encoded images, in order.
    case images([Data])
    case texts([String])
  }

  var input: Input

  /// The one batch check (empty: 400, over the limit: 413), then the input.
  private init(count: Int, limits: RequestLimits, input: () throws -> Input) throws {
    try limits.checkBatch(count)
    self.input = try input()
  }

  init(_ payload: RequestPayload, limits: RequestLimits) throws {
    switch payload {
    case .image(let data):
      try self.init(count: 1, limits: limits) { .images([data]) }
    case .multipart(let form):
      let parts = form.all("image")
      guard !parts.isEmpty else { throw APIError.badRequest("the multipart body has no 'image' field") }
      try self.init(count: parts.count, limits: limits) { .images(parts.map(\.data)) }
    case .json(let data):
      let body = try JSONBody.decode(EmbedRequest.self, from: data)
      switch (body.images, body.texts) {
      case (let images?, nil):
        try self.init(count: images.count, limits: limits) {
          .images(try images.enumerated().map { try decodeBase64Image($1, field: "images[\($0)]") })
        }
      case (nil, let texts?):
        try self.init(count: texts.count, limits: limits) { .texts(texts) }
      default:
        throw APIError.badRequest("send exactly one of 'images' and 'texts'")
      }
    }
  }
}

/// An embedding request as JSON.
struct EmbedRequest: StrictDecodable {
  static let fields: Set<String> = ["images", "texts"]
  var images: [String]?
  var texts: [String]?
}
