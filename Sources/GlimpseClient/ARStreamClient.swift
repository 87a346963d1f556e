import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// One answer of the AR stream: a processed frame's detections, or that frame's error (the
/// stream goes on after a bad frame; bad settings are frame 0). Errors have status 0: they
/// come over the WebSocket, not as HTTP answers.
public enum ARAnswer: Sendable {
  case detections(Components.Schemas.ArFrameResult)
  case error(frame: Int, GlimpseClientError)
}

/// An open AR stream (`GET /v1/ar/stream`, a WebSocket): `send(frame:)` offers camera frames,
/// `answers` yields the server's answers in order.
///
/// Sending is newest-frame-wins: a frame offered while the previous one is still being
/// written replaces any frame waiting to go, so a camera faster than the network never
/// builds a queue (the server does the same with the frames it receives).
public final class ARStream: Sendable {
  public let answers: AsyncThrowingStream<ARAnswer, any Error>
  /// What waits to be written: settings in order, then at most one frame, the newest.
  private let outbox = NIOLockedValueBox(Outbox())
  private let wake: AsyncStream<Void>.Continuation
  private let wakeups: AsyncStream<Void>

  private struct Outbox {
    var settings: [String] = []
    var frame: Data?
    var replaced = 0
    var sent = 0
  }

  init(answers: AsyncThrowingStream<ARAnswer, any Error>) {
    self.answers = answers
    (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
  }

  /// Offers a JPEG frame; it replaces a frame still waiting to be sent.
  public func send(frame: Data) {
    outbox.withLockedValue { outbox in
      if outbox.frame != nil { outbox.replaced += 1 }
      outbox.frame = frame
    }
    wake.yield()
  }

  /// Frames replaced by a newer one before they were sent.
  public var framesReplacedBeforeSending: Int { outbox.withLockedValue { $0.replaced } }

  /// Frames written to the server: the server numbers them 1, 2, … in this order.
  public var framesSent: Int { outbox.withLockedValue { $0.sent } }

  /// New settings for the frames offered from now on.
  public func update(_ settings: Components.Schemas.ArSettings) throws {
    let text = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
    outbox.withLockedValue { $0.settings.append(text) }
    wake.yield()
  }

  /// Writes what waits, settings first, until `finish()`.
  func pump(_ outbound: WebSocketOutboundWriter) async throws {
    for await _ in wakeups {
      let (settings, frame) = outbox.withLockedValue { outbox in
        defer { (outbox.settings, outbox.frame) = ([], nil) }
        return (outbox.settings, outbox.frame)
      }
      for text in settings { try await outbound.write(.text(text)) }
      if let frame {
        try await outbound.write(.binary(ByteBuffer(bytes: frame)))
        outbox.withLockedValue { $0.sent += 1 }
      }
    }
  }

  func finish() { wake.finish() }
}

extension GlimpseClient {
  /// Opens the AR stream, runs `body` with it, and closes it when `body` returns.
  public func arStream<T: Sendable>(
    settings: Components.Schemas.ArSettings? = nil, maxMessageBytes: Int = 1 << 22,
    _ body: @escaping @Sendable (ARStream) async throws -> T
  ) async throws -> T {
    let (answers, continuation) = AsyncThrowingStream.makeStream(of: ARAnswer.self)
    let stream = ARStream(answers: answers)
    if let settings { try stream.update(settings) }
    let result = NIOLockedValueBox<T?>(nil)
    var headers = HTTPFields()
    if let apiKey { headers[.authorization] = "Bearer \(apiKey)" }
    try await WebSocketClient.connect(
      url: webSocketURL(path: "/v1/ar/stream"),
      configuration: .init(maxFrameSize: maxMessageBytes, additionalHeaders: headers),
      logger: Logger(label: "glimpse.client.ar")
    ) { inbound, outbound, _ in
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await stream.pump(outbound) }
        group.addTask { await Self.read(inbound, maxMessageBytes: maxMessageBytes, into: continuation) }
        do {
          let value = try await body(stream)
          result.withLockedValue { $0 = value }
        } catch {
          stream.finish()
          try? await outbound.close(.normalClosure, reason: nil)
          throw error
        }
        // The pump ends; the server answers the close, which ends the reader.
        stream.finish()
        try await outbound.close(.normalClosure, reason: nil)
        try await group.waitForAll()
      }
    }
    guard let value = result.withLockedValue({ $0 }) else { throw CancellationError() }
    return value
  }

  /// Yields the server's answers until it closes.
  static func read(
    _ inbound: WebSocketInboundStream, maxMessageBytes: Int,
    into continuation: AsyncThrowingStream<ARAnswer, any Error>.Continuation
  ) async {
    do {
      for try await message in inbound.messages(maxSize: maxMessageBytes) {
        if case .text(let text) = message { continuation.yield(try answer(text)) }
      }
      continuation.finish()
    } catch {
      continuation.finish(throwing: error)
    }
  }

  /// A server text message as an answer.
  static func answer(_ text: String) throws -> ARAnswer {
    let data = Data(text.utf8)
    if let failure = try? JSONDecoder().decode(FrameError.self, from: data) {
      return .error(
        frame: failure.frame ?? 0,
        GlimpseClientError(status: 0, code: failure.error.code, message: failure.error.message))
    }
    return .detections(try JSONDecoder().decode(Components.Schemas.ArFrameResult.self, from: data))
  }
}

/// `{"frame": n, "error": {"code", "message"}}` (no frame for bad settings).
private struct FrameError: Decodable {
  struct Detail: Decodable {
    var code: String
    var message: String
  }
  var frame: Int?
  var error: Detail
}
