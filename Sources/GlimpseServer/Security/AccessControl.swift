import Foundation
import HTTPTypes
import Hummingbird

/// Who may call what: the API keys with their scopes, whether reads need a key, and which
/// browser origins may write. One place decides, for HTTP routes and the AR stream alike.
public final class AccessControl: Sendable {
  public let keys: APIKeyRing
  let requireKeyForReads: Bool
  /// `--cors-origin` values; `*` allows any origin.
  let allowedOrigins: [String]
  /// The key file, re-read on SIGHUP; plain keys from the command line stay as they are.
  let keyFile: String?
  private let commandLineKeys: [APIKey]

  public init(configuration: ServerConfiguration) throws {
    commandLineKeys = configuration.apiKeys.sorted().enumerated().map {
      APIKey(name: "command-line-\($0.offset + 1)", scope: .admin, plainText: $0.element)
    }
    keyFile = configuration.apiKeyFile
    let fileKeys = try configuration.apiKeyFile.map(APIKeyFile.load) ?? []
    keys = APIKeyRing(commandLineKeys + fileKeys)
    requireKeyForReads = configuration.requireKeyForReads
    allowedOrigins = configuration.corsOrigins
    if requireKeyForReads && keys.isEmpty {
      throw ServerSetupError("--require-key-for-reads needs at least one key (--api-key or --api-key-file)")
    }
  }

  /// Re-reads the key file; on error the keys in force stay and the error is returned.
  public func reload() throws -> Int {
    let fileKeys = try keyFile.map(APIKeyFile.load) ?? []
    keys.replace(with: commandLineKeys + fileKeys)
    return commandLineKeys.count + fileKeys.count
  }

  /// Throws 401 or 403 unless the request may act with `scope`. With no key configured the
  /// server is open (a local, single-user setup); reads are open unless keys are required.
  func authorize(_ headers: HTTPFields, queryKey: String? = nil, scope: KeyScope) throws {
    guard !keys.isEmpty, scope > .read || requireKeyForReads else { return }
    guard let presented = Self.presentedKey(headers) ?? queryKey else {
      throw APIError(
        .unauthorized, "unauthorized",
        "this needs an API key with the '\(scope.rawValue)' scope: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
      )
    }
    guard let key = keys.match(presented) else {
      throw APIError(.unauthorized, "unauthorized", "the API key is not valid")
    }
    guard key.scope >= scope else {
      throw APIError(
        .forbidden, "forbidden",
        "the key '\(key.name)' has the '\(key.scope.rawValue)' scope; this needs '\(scope.rawValue)'")
    }
  }

  static func presentedKey(_ headers: HTTPFields) -> String? {
    if let key = headers[HTTPField.Name("X-API-Key")!] { return key }
    guard let authorization = headers[.authorization], authorization.lowercased().hasPrefix("bearer ") else {
      return nil
    }
    return String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
  }

  /// Whether a browser page from `origin` may make this request: a listed origin (or `*`),
  /// else only the server's own origin (`Host`). Requests without `Origin` come from
  /// programs, not pages, and are not a cross-site risk.
  func allowsOrigin(_ origin: String?, host: String?) -> Bool {
    guard let origin else { return true }
    if allowedOrigins.contains("*") || allowedOrigins.contains(origin) { return true }
    // Pages have http(s) origins (or "null", refused with anything unparseable); a program's
    // WebSocket client may send `ws://host` (swift-websocket does), which no page can.
    guard let url = URL(string: origin), let scheme = url.scheme?.lowercased() else { return false }
    guard scheme == "http" || scheme == "https" else { return scheme == "ws" || scheme == "wss" }
    guard let host, let originHost = url.host else { return false }
    let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
    return originAuthority.lowercased() == host.lowercased()
  }
}

/// Before any route: refuses non-canonical paths (so that no path spelling can reach a route
/// while dodging a rule written for its canonical form) and cross-site writes from browser
/// pages whose origin is not allowed (a form POST needs no CORS preflight).
struct RequestShapeMiddleware<Context: RequestContext>: RouterMiddleware {
  let access: AccessControl

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
    async throws -> Response
  {
    if let problem = Self.pathProblem(request.uri.path) {
      throw APIError(.badRequest, "non_canonical_path", problem)
    }
    if ![.get, .head, .options].contains(request.method),
      !access.allowsOrigin(request.headers[.origin], host: request.head.authority)
    {
      throw APIError(
        .forbidden, "origin_not_allowed",
        "requests from the page at \(request.headers[.origin] ?? "") are not allowed: start the server with --cors-origin for it"
      )
    }
    return try await next(request, context)
  }

  /// Why `path` is not canonical: empty segments (`//`) or dot segments (`/./`, `/../`).
  /// A single trailing slash is allowed.
  static func pathProblem(_ path: String) -> String? {
    guard path.hasPrefix("/") else { return "the path must start with '/'" }
    var segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
    if segments.last == "" { segments = segments.dropLast() }
    if segments.contains("") { return "the path \(path) has an empty segment ('//')" }
    if segments.contains(where: { $0 == "." || $0 == ".." }) {
      return "the path \(path) has a dot segment ('.' or '..')"
    }
    return nil
  }
}
