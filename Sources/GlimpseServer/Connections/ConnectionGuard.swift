import Foundation
import NIOCore
import NIOHTTP1

/// Bounds on connections, enforced before a request reaches Hummingbird.
public struct ConnectionLimits: Sendable {
  /// Most open connections; at the cap the longest-idle one is closed for a newcomer.
  public var maxConnections = 1024
  /// How long a connection may wait with no request in progress and no bytes arriving.
  public var idleTimeout: TimeAmount = .seconds(60)
  /// How long a request's head may take from its first byte (slow-header clients).
  public var headerTimeout: TimeAmount = .seconds(10)
  /// Longest a request body may take to arrive, from its head (slow-body clients).
  public var bodyTimeout: TimeAmount = .seconds(60)
  /// Largest request body; a `Content-Length` above it is answered 413 before any body byte.
  public var maxBodyBytes = 20 * 1024 * 1024

  public init() {}

  /// The cap a machine can hold: the open-file limit less room for the models, the catalog and
  /// the files a request opens, and at most 4096.
  public static func defaultMaxConnections(openFileLimit: Int) -> Int {
    max(16, min(4096, openFileLimit - 128))
  }
}

/// Guards one HTTP/1 connection, sitting just after NIO's request decoder (where whole heads
/// are known) and before Hummingbird:
/// - idle, header and body timeouts, and the connection cap (`ConnectionRegistry`);
/// - refuses what must never reach a route: HTTP/1.1 without exactly one `Host`, a
///   `Content-Length` over the limit (413 at once instead of reading the body), unparseable
///   requests (400) — each with a JSON error body and `Connection: close`;
/// - closes HTTP/1.0 connections after their answer unless they ask for keep-alive, and
///   connections whose answer came before their body ended (the rest is never read);
/// - answers `HEAD` as `GET` without the body.
/// A WebSocket upgrade request passes through and the guard steps aside: the stream then
/// has its own rules (`ARStreamSession`, `WebSocketFrameGuard`).
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  private let limits: ConnectionLimits
  private let registry: ConnectionRegistry
  private var context: ChannelHandlerContext?
  /// Requests whose head arrived and whose answer has not ended.
  private var openRequests = 0
  private var bodyInProgress = false
  private var closeAfterAnswer = false
  private var answeringHead = false
  private var refusing = false
  private var timer: Scheduled<Void>?
  private var headerDeadlineArmed = false
  private var admitted = false

  init(limits: ConnectionLimits, registry: ConnectionRegistry) {
    self.limits = limits
    self.registry = registry
  }

  // MARK: Life cycle

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    let channel = context.channel
    let registry = self.registry
    // Also when the guard has stepped aside for a WebSocket, which keeps the connection.
    channel.closeFuture.whenComplete { _ in registry.remove(channel) }
    if channel.isActive { admit(context) }
  }

  func channelActive(context: ChannelHandlerContext) {
    admit(context)
    context.fireChannelActive()
  }

  private func admit(_ context: ChannelHandlerContext) {
    guard !admitted else { return }
    admitted = true
    switch registry.admit(context.channel) {
    case .admitted, .admittedByEvicting: arm(limits.idleTimeout, context: context)
    case .refused:
      refuse(
        context, .serviceUnavailable, "too_many_connections",
        "the server has \(registry.limit) connections busy with requests; retry shortly",
        headers: [("Retry-After", "1")])
    }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    timer?.cancel()
    self.context = nil
  }

  func channelInactive(context: ChannelHandlerContext) {
    timer?.cancel()
    context.fireChannelInactive()
  }

  /// Called by `InboundByteObserver` whenever bytes arrive: the first bytes of a new request
  /// switch the idle deadline to the (shorter) header deadline.
  func bytesArrived() {
    guard let context, openRequests == 0, !bodyInProgress, !headerDeadlineArmed, !refusing else { return }
    headerDeadlineArmed = true
    arm(limits.headerTimeout, context: context)
  }

  // MARK: Inbound

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !refusing else { return }
    switch unwrapInboundIn(data) {
    case .head(let head): receive(head, context: context)
    case .body:
      context.fireChannelRead(data)
    case .end:
      bodyInProgress = false
      timer?.cancel()
      context.fireChannelRead(data)
    }
  }

  private func receive(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
    timer?.cancel()
    headerDeadlineArmed = false
    registry.setIdle(context.channel, false)
    if let refusal = RequestHeadCheck(head: head, maxBodyBytes: limits.maxBodyBytes).refusal {
      refuse(context, refusal.status, refusal.code, refusal.message)
      return
    }
    openRequests += 1
    bodyInProgress = true
    arm(limits.bodyTimeout, context: context)
    if !head.isKeepAlive { closeAfterAnswer = true }
    if head.headers.contains(name: "upgrade") {
      // A WebSocket upgrade: from here on the bytes are frames, not HTTP; step aside.
      context.fireChannelRead(wrapInboundOut(.head(head)))
      context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
      return
    }
    var forwarded = head
    answeringHead = head.method == .HEAD
    if answeringHead { forwarded.method = .GET }
    context.fireChannelRead(wrapInboundOut(.head(forwarded)))
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    guard let parserError = error as? HTTPParserError, openRequests == 0, !refusing else {
      // A parse error inside a request's body reaches the route, which answers 400.
      context.fireErrorCaught(error)
      return
    }
    if parserError == .invalidContentLength {
      refuse(
        context, .payloadTooLarge, "payload_too_large",
        "the Content-Length is not a size this server accepts (over \(limits.maxBodyBytes) bytes, or not a number)"
      )
    } else {
      refuse(context, .badRequest, "bad_request", "malformed HTTP request: \(parserError)")
    }
  }

  // MARK: Outbound

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    switch unwrapOutboundIn(data) {
    case .head(var head):
      if closeAfterAnswer || bodyInProgress { head.headers.replaceOrAdd(name: "Connection", value: "close") }
      if answeringHead { head.headers.remove(name: "Transfer-Encoding") }
      context.write(wrapOutboundOut(.head(head)), promise: promise)
    case .body:
      // A HEAD answer carries the GET answer's headers (Content-Length included) and no body.
      if answeringHead { promise?.succeed() } else { context.write(data, promise: promise) }
    case .end:
      context.write(data, promise: promise)
      answerEnded(context: context)
    }
  }

  private func answerEnded(context: ChannelHandlerContext) {
    openRequests -= 1
    answeringHead = false
    if closeAfterAnswer || bodyInProgress {
      // Answered before the body ended (413, 504…): reading the rest would only cost time.
      context.flush()
      context.close(mode: .all, promise: nil)
      return
    }
    if openRequests == 0 {
      registry.setIdle(context.channel, true)
      arm(limits.idleTimeout, context: context)
    }
  }

  // MARK: Helpers

  private func arm(_ timeout: TimeAmount, context: ChannelHandlerContext? = nil) {
    guard let context = context ?? self.context else { return }
    timer?.cancel()
    timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
      self?.timedOut()
    }
  }

  private func timedOut() {
    guard let context else { return }
    if openRequests > 0 && !bodyInProgress { return }  // a route is working: its own limit applies
    if openRequests == 0 {
      context.close(promise: nil)
    } else {
      refuse(
        context, .requestTimeout, "request_timeout", "the request body took longer than \(limits.bodyTimeout)"
      )
    }
  }

  /// Answers with a JSON error and closes; nothing more is read from this connection.
  private func refuse(
    _ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ code: String, _ message: String,
    headers extra: [(String, String)] = []
  ) {
    refusing = true
    timer?.cancel()
    let body = ErrorJSON.encode(code: code, message: message)
    var headers = HTTPHeaders([
      ("Content-Type", "application/json; charset=utf-8"), ("Content-Length", "\(body.readableBytes)"),
      ("Connection", "close"),
    ])
    headers.add(contentsOf: extra)
    context.write(
      wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
      promise: nil)
    context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
    context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
      context.close(promise: nil)
    }
  }
}

/// What a request head alone tells: whether it must be refused before any route runs.
struct RequestHeadCheck {
  let head: HTTPRequestHead
  let maxBodyBytes: Int

  var refusal: (status: HTTPResponseStatus, code: String, message: String)? {
    let hosts = head.headers["Host"]
    if head.version.major == 1 && head.version.minor >= 1 && hosts.count != 1 {
      return (
        .badRequest, "bad_request", "an HTTP/1.1 request needs exactly one Host header, it has \(hosts.count)"
      )
    }
    if hosts.count > 1 { return (.badRequest, "bad_request", "more than one Host header") }
    let lengths = head.headers["Content-Length"]
    if let declared = lengths.first {
      guard lengths.allSatisfy({ $0 == declared }), let length = Int(declared), length >= 0 else {
        return (.badRequest, "bad_request", "the Content-Length header is invalid")
      }
      if length > maxBodyBytes {
        return (
          .payloadTooLarge, "payload_too_large",
          "the body of \(length) bytes is over the limit of \(maxBodyBytes) bytes"
        )
      }
    }
    return nil
  }
}

/// The JSON error body of `APIError`, for answers written below Hummingbird.
enum ErrorJSON {
  static func encode(code: String, message: String) -> ByteBuffer {
    let body = APIError(.badRequest, code, message).body
    return ByteBuffer(bytes: (try? JSONEncoder().encode(body)) ?? Data("{}".utf8))
  }
}

/// Tells the guard when bytes arrive, from the front of the pipeline where every byte passes
/// (before the HTTP decoder, which only speaks once a head is whole).
final class InboundByteObserver: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  weak var connectionGuard: ConnectionGuardHandler?

  init(connectionGuard: ConnectionGuardHandler) { self.connectionGuard = connectionGuard }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    connectionGuard?.bytesArrived()
    context.fireChannelRead(data)
  }
}
