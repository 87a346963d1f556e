import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Wraps Hummingbird's HTTP/1 + WebSocket child channel: after it has built its pipeline, the
/// connection guard goes in just after the request decoder and a byte observer at the front.
struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
  typealias Value = Base.Value

  let base: Base
  let limits: ConnectionLimits
  let registry: ConnectionRegistry

  func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
    base.setup(channel: channel, logger: logger).flatMapThrowing { value in
      let operations = channel.pipeline.syncOperations
      let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
      let connectionGuard = ConnectionGuardHandler(limits: limits, registry: registry)
      try operations.addHandler(connectionGuard, position: .after(decoder))
      try operations.addHandler(InboundByteObserver(connectionGuard: connectionGuard), position: .first)
      return value
    }
  }

  func handle(value: Value, logger: Logger) async {
    await base.handle(value: value, logger: logger)
  }
}
