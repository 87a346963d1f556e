import Foundation
import HTTPTypes
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

#if canImport(OpenAPIURLSession)
  import OpenAPIURLSession
#endif

public typealias GlimpseItem = Components.Schemas.Item
public typealias GlimpseItemPage = Components.Schemas.ItemPage
public typealias GlimpseSearchResult = Components.Schemas.SearchResult
public typealias GlimpseDetections = Components.Schemas.DetectResponse
/// Items having every tag and, per metadata field, one of the values.
public typealias GlimpseFilter = Components.Schemas.Filter
/// An item's metadata, a JSON object: `try GlimpseMetadata(unvalidatedValue: ["brand": "acme"])`.
public typealias GlimpseMetadata = Components.Schemas.Metadata
public typealias ARSettings = Components.Schemas.ArSettings

/// A Glimpse server, typed: the calls an app makes most, over the client generated from
/// docs/openapi.yaml (`raw`, for everything else). Every error answer is thrown as a
/// `GlimpseClientError` carrying the server's status, code and message.
public struct GlimpseClient: Sendable {
  public let serverURL: URL
  public let apiKey: String?
  /// How long a call waits for its answer.
  public let timeout: Duration
  /// The generated client: every operation of the spec.
  public let raw: Client

  /// `transport` defaults to URLSession on Apple platforms, AsyncHTTPClient elsewhere. A call
  /// gives up after `timeout` (a server that cannot be reached included).
  public init(
    serverURL: URL, apiKey: String? = nil, timeout: Duration = .seconds(60),
    transport: (any ClientTransport)? = nil
  ) {
    self.serverURL = serverURL
    self.apiKey = apiKey
    self.timeout = timeout
    var middlewares: [any ClientMiddleware] = [ErrorMiddleware()]
    if let apiKey { middlewares.append(AuthorizationMiddleware(apiKey: apiKey)) }
    raw = Client(
      serverURL: serverURL, transport: transport ?? Self.defaultTransport, middlewares: middlewares)
  }

  static var defaultTransport: any ClientTransport {
    #if canImport(OpenAPIURLSession)
      URLSessionTransport()
    #else
      AsyncHTTPClientTransport()
    #endif
  }

  /// Runs a generated call within `timeout`, throwing the server's error as a
  /// `GlimpseClientError` (code `timeout` when no answer came in time). The time limit is
  /// kept here because AsyncHTTPClient keeps retrying a refused connection past its own.
  func call<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let (timeout, serverURL) = (timeout, serverURL)
    do {
      return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
          try await Task.sleep(for: timeout)
          throw GlimpseClientError(
            status: 0, code: "timeout", message: "no answer from \(serverURL) within \(timeout)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
      }
    } catch {
      throw unwrapped(error)
    }
  }

  /// `ws://` or `wss://` and the server's address, for the AR stream.
  func webSocketURL(path: String) -> String {
    var components = URLComponents(url: serverURL, resolvingAgainstBaseURL: false)!
    components.scheme = components.scheme == "https" ? "wss" : "ws"
    components.path =
      components.path.hasSuffix("/") ? String(components.path.dropLast()) + path : components.path + path
    return components.string!
  }

  // MARK: Embeddings

  /// The ids of the server's models (`GET /v1/models`), the CLIP model first.
  public func models() async throws -> [String] {
    try await call { try await raw.listModels().ok.body.json.data.map(\.id) }
  }

  /// The CLIP embedding of an image (JPEG, PNG or WebP bytes), sent as the raw body.
  public func embed(image: Data) async throws -> [Float] {
    let body = ImageKind.body(
      image, jpeg: Operations.Embed.Input.Body.jpeg, png: Operations.Embed.Input.Body.png,
      webp: Operations.Embed.Input.Body.imageWebp)
    return try await call { try await raw.embed(body: body).ok.body.json.embeddings[0].map(Float.init) }
  }

  /// CLIP embeddings of texts, in order.
  public func embed(texts: [String]) async throws -> [[Float]] {
    let body = Components.Schemas.EmbedRequest.case2(.init(texts: texts))
    return try await call {
      try await raw.embed(body: .json(body)).ok.body.json.embeddings.map { $0.map(Float.init) }
    }
  }

  // MARK: Search and detection

  /// The `k` catalog items most like the image, best first; with `groupByParent`, one per
  /// image (an object found inside an image stands for it).
  public func search(image: Data, k: Int = 10, filter: GlimpseFilter? = nil, groupByParent: Bool = false)
    async throws -> [GlimpseSearchResult]
  {
    let body = ImageKind.body(
      image, jpeg: Operations.Search.Input.Body.jpeg, png: Operations.Search.Input.Body.png,
      webp: Operations.Search.Input.Body.imageWebp)
    return try await call {
      try await raw.search(
        query: .init(k: k, filter: filter, groupBy: groupByParent ? .parent : nil), body: body
      ).ok.body.json.results
    }
  }

  /// The `k` catalog items most like the text, best first (one per image with `groupByParent`).
  public func search(text: String, k: Int = 10, filter: GlimpseFilter? = nil, groupByParent: Bool = false)
    async throws -> [GlimpseSearchResult]
  {
    let body = Components.Schemas.SearchRequest.case1(
      .init(text: text, k: k, filter: filter, groupBy: groupByParent ? .parent : nil))
    return try await call { try await raw.search(body: .json(body)).ok.body.json.results }
  }

  /// Objects in the image, with distances when `fovDegrees` or `focalPixels` is given, and
  /// their `searchK` best catalog matches when it is given.
  public func detect(
    image: Data, confidence: Double? = nil, iou: Double? = nil, classes: [String]? = nil,
    fovDegrees: Double? = nil, focalPixels: Double? = nil, searchK: Int? = nil
  ) async throws -> GlimpseDetections {
    let query = Operations.Detect.Input.Query(
      conf: confidence, iou: iou, classes: classes, fovDeg: fovDegrees, focalPx: focalPixels,
      search: searchK.map { _ in true }, k: searchK)
    let body = ImageKind.body(
      image, jpeg: Operations.Detect.Input.Body.jpeg, png: Operations.Detect.Input.Body.png,
      webp: Operations.Detect.Input.Body.imageWebp)
    return try await call { try await raw.detect(query: query, body: body).ok.body.json }
  }
}

/// An image's format by its first bytes; what is neither PNG nor WebP goes as JPEG (the
/// server says `invalid_image` if it is not one).
enum ImageKind {
  case jpeg, png, webp

  init(_ data: Data) {
    let bytes = [UInt8](data.prefix(12))
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
      self = .png
    } else if bytes.count == 12, bytes[0..<4] == [0x52, 0x49, 0x46, 0x46],
      bytes[8..<12] == [0x57, 0x45, 0x42, 0x50]
    {
      self = .webp
    } else {
      self = .jpeg
    }
  }

  /// The request body case of the image's type (each operation has its own body enum).
  static func body<Body>(
    _ image: Data, jpeg: (HTTPBody) -> Body, png: (HTTPBody) -> Body, webp: (HTTPBody) -> Body
  ) -> Body {
    switch ImageKind(image) {
    case .jpeg: jpeg(HTTPBody(image))
    case .png: png(HTTPBody(image))
    case .webp: webp(HTTPBody(image))
    }
  }
}
