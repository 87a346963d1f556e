import Catalog
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore

/// A stand-in for the Hugging Face hub on loopback, with the routes `glimpse models fetch`
/// uses: the tree API (with `lfs.oid` SHA-256s), `resolve/main/PATH` answering small files
/// itself and large (LFS) files with a 302 to a second listener, as the hub does, carrying
/// `X-Linked-Etag` and `X-Linked-Size`. The second listener serves the bytes with Range
/// support, and can misbehave on purpose: close the connection part-way, or send wrong bytes.
final class HubStandIn: @unchecked Sendable {
  struct Request: Sendable {
    var server: String
    var path: String
    var authorization: String?
    var range: String?
  }

  static let organization = "immich-app"
  /// Files above this size are served as LFS files, through the redirect.
  static let lfsThreshold = 100_000

  let model: String
  let files: [String: Data]
  /// SHA-256 of each file, computed once (a debug build hashes slowly).
  let digests: [String: String]
  var treeAPI = true
  /// When set, the hub answers 401 to requests without `Authorization: Bearer <token>`.
  var requiredToken: String?
  /// The storage host closes the connection after this many bytes, the first time only.
  var interruptAfter: [String: Int] = [:]
  /// The storage host sends these files with one byte changed.
  var corrupted: Set<String> = []

  private let lock = NSLock()
  private var log: [Request] = []
  private var interrupted: Set<String> = []

  init(model: String, files: [String: Data]) {
    self.model = model
    self.files = files
    digests = files.mapValues(ContentHash.sha256Hex)
  }

  /// The files of a model folder on disk, keyed by their path inside it.
  static func folderFiles(_ folder: URL, skipping skipped: Set<String> = []) throws -> [String: Data] {
    let paths = FileManager.default.subpaths(atPath: folder.path) ?? []
    var files: [String: Data] = [:]
    for path in paths where !skipped.contains(where: { path.hasPrefix($0) }) {
      var isDirectory: ObjCBool = false
      let url = folder.appendingPathComponent(path)
      if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
        files[path] = try Data(contentsOf: url)
      }
    }
    return files
  }

  var requests: [Request] { lock.withLock { log } }

  private func record(_ server: String, _ request: Hummingbird.Request) {
    let entry = Request(
      server: server, path: request.uri.path, authorization: request.headers[.authorization],
      range: request.headers[.range])
    lock.withLock { log.append(entry) }
  }

  private func firstInterruption(_ path: String) -> Int? {
    lock.withLock {
      guard let limit = interruptAfter[path], !interrupted.contains(path) else { return nil }
      interrupted.insert(path)
      return limit
    }
  }

  /// Runs `body` with the hub's address (`http://127.0.0.1:PORT`) while both listeners run.
  func serve<Value: Sendable>(_ body: @Sendable @escaping (String) async throws -> Value) async throws
    -> Value
  {
    try await storageApplication().test(.live) { storage in
      let storageAddress = "http://127.0.0.1:\(storage.port!)"
      return try await self.hubApplication(storage: storageAddress).test(.live) { hub in
        try await body("http://127.0.0.1:\(hub.port!)")
      }
    }
  }

  private func hubApplication(storage: String) -> some ApplicationProtocol {
    let router = Router()
    router.get("api/models/:organization/:name/tree/main") { request, context in
      self.record("hub", request)
      if let refusal = self.refusal(request) { return refusal }
      guard self.treeAPI, context.parameters.get("name") == self.model else {
        return Response(status: .notFound)
      }
      return Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(bytes: self.tree())))
    }
    router.get(":organization/:name/resolve/main/**") { request, context in
      self.record("hub", request)
      if let refusal = self.refusal(request) { return refusal }
      let path = context.parameters.getCatchAll().joined(separator: "/")
      guard context.parameters.get("name") == self.model, let data = self.files[path] else {
        return Response(status: .notFound)
      }
      return self.resolve(path, data, storage: storage)
    }
    return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
  }

  private func refusal(_ request: Hummingbird.Request) -> Response? {
    guard let token = requiredToken, request.headers[.authorization] != "Bearer \(token)" else { return nil }
    return Response(status: .unauthorized)
  }

  /// Small files come from the hub itself with a git-blob ETag (a SHA-1, not a SHA-256); large
  /// files are a redirect announcing their SHA-256 and size.
  private func resolve(_ path: String, _ data: Data, storage: String) -> Response {
    guard data.count > Self.lfsThreshold else {
      var headers = HTTPFields()
      headers[.eTag] = "\"\(String(repeating: "5", count: 40))\""
      return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
    var headers = HTTPFields()
    headers[.location] = "\(storage)/blobs/\(digests[path]!)"
    headers[HTTPField.Name("X-Linked-Etag")!] = "\"\(digests[path]!)\""
    headers[HTTPField.Name("X-Linked-Size")!] = "\(data.count)"
    return Response(status: .found, headers: headers)
  }

  private func tree() -> Data {
    var entries: [[String: Any]] = [["type": "directory", "path": "visual", "oid": "0", "size": 0]]
    for (path, data) in files.sorted(by: { $0.key < $1.key }) {
      var entry: [String: Any] = [
        "type": "file", "path": path, "size": data.count, "oid": String(repeating: "5", count: 40),
      ]
      if data.count > Self.lfsThreshold {
        entry["lfs"] = ["oid": digests[path]!, "size": data.count, "pointerSize": 134]
      }
      entries.append(entry)
    }
    return try! JSONSerialization.data(withJSONObject: entries)
  }

  private func storageApplication() -> some ApplicationProtocol {
    let router = Router()
    router.get("blobs/:sha") { request, context in
      self.record("storage", request)
      let sha = context.parameters.get("sha") ?? ""
      guard let path = self.digests.first(where: { $0.value == sha })?.key, let data = self.files[path] else {
        return Response(status: .notFound)
      }
      return self.blob(
        path, self.corrupted.contains(path) ? Self.corrupt(data) : data, range: request.headers[.range])
    }
    return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
  }

  private static func corrupt(_ data: Data) -> Data {
    var bytes = data
    bytes[bytes.count / 2] ^= 0xFF
    return bytes
  }

  /// `Range: bytes=N-` answered with 206, or the whole file with 200; a first request for an
  /// interrupted file promises every byte and closes the connection after the limit.
  private func blob(_ path: String, _ data: Data, range: String?) -> Response {
    let start = range.flatMap { Int($0.dropFirst("bytes=".count).prefix { $0.isNumber }) } ?? 0
    guard start < data.count else { return Response(status: .rangeNotSatisfiable) }
    let part = data.subdata(in: start..<data.count)
    var headers = HTTPFields()
    if start > 0 { headers[.contentRange] = "bytes \(start)-\(data.count - 1)/\(data.count)" }
    let status: HTTPResponse.Status = start > 0 ? .partialContent : .ok
    guard let limit = firstInterruption(path), limit < part.count else {
      return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: part)))
    }
    let body = ResponseBody(contentLength: part.count) { writer in
      try await writer.write(ByteBuffer(bytes: part.prefix(limit)))
      throw CancellationError()
    }
    return Response(status: status, headers: headers, body: body)
  }
}
