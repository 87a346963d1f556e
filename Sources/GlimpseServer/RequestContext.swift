import Hummingbird
import NIOCore

/// The context every route gets: Hummingbird's core plus the client's address, which rate
/// limits key on when a request carries no API key.
public struct GlimpseRequestContext: RequestContext, RemoteAddressRequestContext {
  public var coreContext: CoreRequestContextStorage
  public let remoteAddress: SocketAddress?

  public init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
    remoteAddress = source.channel.remoteAddress
  }
}
