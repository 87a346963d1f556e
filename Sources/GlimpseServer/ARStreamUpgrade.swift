import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// Whether a WebSocket upgrade becomes an AR stream: only on `/v1/ar/stream`, only from an
/// allowed browser origin (a page elsewhere must not read the catalog through the user's
/// browser), and with a read key when reads need one (browsers cannot set headers on a
/// WebSocket, so `?key=` is accepted here).
struct ARStreamUpgrade {
  let state: ServerState

  func decide(_ request: HTTPRequest, channel: any Channel, logger: Logger) async throws
    -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
  {
    let parts = (request.path ?? "").split(separator: "?", maxSplits: 1)
    guard parts.first == "/v1/ar/stream" else { return .dontUpgrade }
    let access = state.access
    guard access.allowsOrigin(request.headerFields[.origin], host: request.authority) else {
      logger.notice("AR stream refused: origin \(request.headerFields[.origin] ?? "") is not allowed")
      return .dontUpgrade
    }
    let query = QueryReader.parse(parts.count > 1 ? String(parts[1]) : "")
    do {
      try access.authorize(request.headerFields, queryKey: query["key"], scope: .read)
    } catch {
      logger.notice("AR stream refused: \(error)")
      return .dontUpgrade
    }
    try await channel.eventLoop.submit {
      let decoder = try channel.pipeline.syncOperations.handler(
        type: ByteToMessageHandler<HTTPRequestDecoder>.self)
      try channel.pipeline.syncOperations.addHandler(WebSocketFrameGuard(), position: .before(decoder))
    }.get()
    let session = ARStreamSession(state: state, logger: logger)
    return .upgrade([:]) { inbound, outbound, _ in try await session.run(inbound: inbound, outbound: outbound)
    }
  }
}

/// Closes a WebSocket whose client sends an unmasked frame (RFC 6455 §5.1: the server must
/// close with 1002, protocol error). NIO's frame decoder accepts such frames, so their mask
/// bit is read here, from the raw bytes, frame header by frame header.
final class WebSocketFrameGuard: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  /// Bytes of the current frame's header read so far.
  private var header: [UInt8] = []
  /// Payload bytes of the current frame still to pass.
  private var payloadLeft: UInt64 = 0
  private var violated = false

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !violated else { return }
    var buffer = unwrapInboundIn(data)
    if scan(&buffer) {
      context.fireChannelRead(data)
    } else {
      violated = true
      // Close frame, status 1002 (0x03EA), unmasked as server frames are.
      let close = ByteBuffer(bytes: [0x88, 0x02, 0x03, 0xEA])
      context.writeAndFlush(NIOAny(close)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
  }

  /// Walks the frame headers in `buffer`; false at the first unmasked frame.
  private func scan(_ buffer: inout ByteBuffer) -> Bool {
    while buffer.readableBytes > 0 {
      if payloadLeft > 0 {
        let skipped = Int(min(payloadLeft, UInt64(buffer.readableBytes)))
        buffer.moveReaderIndex(forwardBy: skipped)
        payloadLeft -= UInt64(skipped)
        continue
      }
      header.append(buffer.readInteger()!)
      guard header.count >= 2 else { continue }
      guard header[1] & 0x80 != 0 else { return false }
      let shortLength = header[1] & 0x7F
      let lengthBytes = shortLength == 126 ? 2 : shortLength == 127 ? 8 : 0
      guard header.count == 2 + lengthBytes + 4 else { continue }
      payloadLeft =
        lengthBytes == 0
        ? UInt64(shortLength) : header[2..<2 + lengthBytes].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
      header.removeAll(keepingCapacity: true)
    }
    return true
  }
}
