import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// What the hub announced about a file: the SHA-256 and size of an LFS file come as
/// `X-Linked-Etag` and `X-Linked-Size` on its redirect to the storage host.
struct Announcement: Sendable, Equatable {
  var sha256: String?
  var size: Int64?

  /// Values already known (from the tree listing) are kept.
  mutating func fill(from headers: HTTPHeaders) {
    if sha256 == nil, let etag = headers.first(name: "x-linked-etag") {
      sha256 = Self.sha256(fromETag: etag)
    }
    if size == nil, let text = headers.first(name: "x-linked-size") { size = Int64(text) }
  }

  /// `"<64 hex>"` or `W/"<64 hex>"`; anything else (a git blob SHA-1 in a plain ETag) is no
  /// SHA-256 and is not used.
  static func sha256(fromETag etag: String) -> String? {
    var value = Substring(etag.trimmingCharacters(in: .whitespaces))
    if value.hasPrefix("W/") { value = value.dropFirst(2) }
    value = value.drop { $0 == "\"" }
    while value.last == "\"" { value = value.dropLast() }
    let hex = value.lowercased()
    return hex.count == 64 && hex.allSatisfy(\.isHexDigit) ? hex : nil
  }
}

/// Why a fetch stopped, in words a user can act on.
enum FetchError: Error, CustomStringConvertible {
  case unreachable(host: String, reason: String)
  case status(code: UInt, address: String, hint: String)
  case mismatch(path: String, what: String, expected: String, got: String)
  case disk(path: String, reason: String)
  case interrupted(received: Int64, reason: String)

  var description: String {
    switch self {
    case .unreachable(let host, let reason): "cannot reach \(host): \(reason)"
    case .status(let code, let address, let hint): "\(address) answered HTTP \(code): \(hint)"
    case .mismatch(let path, let what, let expected, let got):
      "\(path): \(what) mismatch: expected \(expected), got \(got); the file was refused and removed"
        + " (a corrupted transfer or mirror: run the command again, or try another --hub)"
    case .disk(let path, let reason): "cannot write \(path): \(reason)"
    case .interrupted(let received, let reason): "transfer interrupted after \(received) bytes: \(reason)"
    }
  }

  /// NIO's connection errors list every address tried; the user needs the gist.
  static func reason(_ error: any Error) -> String {
    let text = String(describing: error)
    let known = [
      ("refused", "connection refused"), ("connectTimeout", "connection timed out"),
      ("DNS", "host name not found"), ("unreachable", "network unreachable"),
    ]
    return known.first { text.contains($0.0) }?.1 ?? text
  }
}

/// GET requests to the hub, following redirects by hand: the bearer token is sent to the hub's
/// own host only, never to the storage host a large file is redirected to, and the first
/// answer's announcement of the file's SHA-256 is kept.
struct HubClient {
  let http: HTTPClient
  let location: HubLocation

  static let configuration = HTTPClient.Configuration(
    redirectConfiguration: .disallow,
    timeout: .init(connect: .seconds(10), read: .seconds(60)))
  private static let redirects: Set<UInt> = [301, 302, 303, 307, 308]

  struct Answer {
    var response: HTTPClientResponse
    var announcement: Announcement
  }

  func get(_ address: String, from offset: Int64 = 0) async throws -> Answer {
    var current = address
    var announcement = Announcement()
    for _ in 0..<10 {
      let response = try await send(current, from: offset)
      announcement.fill(from: response.headers)
      guard Self.redirects.contains(response.status.code),
        let target = response.headers.first(name: "location")
      else { return Answer(response: response, announcement: announcement) }
      _ = try? await response.body.collect(upTo: 1 << 20)
      guard let next = URL(string: target, relativeTo: URL(string: current))?.absoluteString else {
        throw FetchError.status(code: response.status.code, address: current, hint: "bad Location \(target)")
      }
      current = next
    }
    throw FetchError.status(code: 310, address: address, hint: "more than 10 redirects")
  }

  private func send(_ address: String, from offset: Int64) async throws -> HTTPClientResponse {
    var request = HTTPClientRequest(url: address)
    request.headers.add(name: "User-Agent", value: "glimpse")
    if offset > 0 { request.headers.add(name: "Range", value: "bytes=\(offset)-") }
    if let token = location.token, let url = URL(string: address), location.isHub(url) {
      request.headers.add(name: "Authorization", value: "Bearer \(token)")
    }
    do {
      // The deadline bounds a whole transfer, body included; a stalled one ends at the read
      // timeout instead.
      return try await http.execute(request, timeout: .hours(24))
    } catch {
      throw FetchError.unreachable(
        host: URL(string: address)?.host ?? address, reason: FetchError.reason(error))
    }
  }

  /// The repository's files from the tree API, or nil where the hub has no such API (a plain
  /// mirror) so that the fixed list is used.
  func listFiles(of name: String) async throws -> [RemoteFile]? {
    let answer = try await get(location.treeAddress(name))
    let code = answer.response.status.code
    guard code == 200 else {
      _ = try? await answer.response.body.collect(upTo: 1 << 20)
      if code == 401 || code == 403 { throw statusError(code, location.treeAddress(name), name) }
      return nil
    }
    let body = try await answer.response.body.collect(upTo: 64 << 20)
    return try? HubTreeEntry.files(from: Data(body.readableBytesView))
  }

  func statusError(_ code: UInt, _ address: String, _ name: String) -> FetchError {
    let hint: String
    switch code {
    case 401, 403:
      hint =
        location.token == nil
        ? "\(name) is private or gated, or does not exist; set HF_TOKEN to a token that may read it"
        : "the token in HF_TOKEN was refused for \(name) (expired, or without access to it)"
    case 404:
      hint =
        "no model \(name) at \(location.repositoryAddress(name)); `glimpse models list --known` lists the names Glimpse can fetch"
    default:
      hint = "the hub failed; try again later or use another --hub"
    }
    return .status(code: code, address: address, hint: hint)
  }
}
