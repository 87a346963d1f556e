import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Fetches image URLs for `/v1/embeddings`, only from the hosts `--allow-image-urls` names:
/// the body within the request body limit, 10 s for the whole fetch, and redirects followed
/// (at most 3) only to the same host. Without the flag no URL is ever fetched, so the server
/// cannot be made a proxy into the network it runs in.
struct ImageURLFetcher: Sendable {
  let allowedHosts: Set<String>
  let maxBytes: Int
  static let timeout: TimeAmount = .seconds(10)
  static let maxRedirects = 3

  /// One client for the process (it is never shut down, as `HTTPClient.shared`), which
  /// follows no redirect itself: `fetch` checks each target's host first.
  private static let client = HTTPClient(
    eventLoopGroup: HTTPClient.defaultEventLoopGroup,
    configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5))))

  /// The body of `text` (an http or https URL of an allowed host).
  func fetch(_ text: String, param: String) async throws -> Data {
    guard var url = URL(string: text), let host = url.host?.lowercased(),
      ["http", "https"].contains(url.scheme)
    else {
      throw APIError.openAI(.badRequest, "invalid_image", "\(param) is not a valid URL", param: param)
    }
    guard allowedHosts.contains(host) else {
      throw APIError.openAI(
        .badRequest, "image_url_not_allowed",
        "\(param): images are not fetched from \(host) (the hosts allowed are set with --allow-image-urls); send a data: URI",
        param: param)
    }
    let deadline = NIODeadline.now() + Self.timeout
    for _ in 0...Self.maxRedirects {
      let response = try await get(url, deadline: deadline, param: param)
      guard (300..<400).contains(response.status.code) else {
        return try await body(of: response, url, param)
      }
      url = try redirectTarget(response, from: url, host: host, param: param)
    }
    throw fetchFailed(param, url, "more than \(Self.maxRedirects) redirects")
  }

  private func get(_ url: URL, deadline: NIODeadline, param: String) async throws -> HTTPClientResponse {
    do {
      return try await Self.client.execute(HTTPClientRequest(url: url.absoluteString), deadline: deadline)
    } catch {
      throw fetchFailed(param, url, "\(error)")
    }
  }

  private func body(of response: HTTPClientResponse, _ url: URL, _ param: String) async throws -> Data {
    guard response.status == .ok else {
      throw fetchFailed(param, url, "the host answered \(response.status.code)")
    }
    if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > maxBytes {
      throw APIError.openAI(
        .contentTooLarge, "payload_too_large", "\(param): the image is over \(maxBytes) bytes", param: param)
    }
    do {
      return Data(buffer: try await response.body.collect(upTo: maxBytes))
    } catch is NIOTooManyBytesError {
      throw APIError.openAI(
        .contentTooLarge, "payload_too_large", "\(param): the image is over \(maxBytes) bytes", param: param)
    } catch {
      throw fetchFailed(param, url, "\(error)")
    }
  }

  /// Where a redirect points, if it stays on the same host.
  private func redirectTarget(_ response: HTTPClientResponse, from url: URL, host: String, param: String)
    throws
    -> URL
  {
    guard let location = response.headers.first(name: "location"),
      let target = URL(string: location, relativeTo: url),
      ["http", "https"].contains(target.scheme)
    else { throw fetchFailed(param, url, "a redirect without a usable Location") }
    guard target.host?.lowercased() == host else {
      throw APIError.openAI(
        .badRequest, "image_url_not_allowed",
        "\(param): \(host) redirects to \(target.host ?? "?"), another host: not followed", param: param)
    }
    return target.absoluteURL
  }

  private func fetchFailed(_ param: String, _ url: URL, _ reason: String) -> APIError {
    APIError.openAI(
      .badRequest, "image_fetch_failed", "\(param): fetching \(url) failed: \(reason)", param: param)
  }
}
