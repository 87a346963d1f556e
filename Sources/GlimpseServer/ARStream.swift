import Foundation
import HummingbirdWebSocket
import Imaging
import Logging
import NIOCore

/// One AR client's WebSocket: JPEG frames in (binary), settings in (text JSON), one answer
/// out per processed frame.
///
/// Frames that arrive while one is being processed wait in a slot that holds only the
/// newest: an older waiting frame is dropped (and counted) when a newer one arrives. A slow
/// model therefore answers the most recent view of the camera, and memory stays flat however
/// fast the client sends.
struct ARStreamSession {
  let state: ServerState
  let logger: Logger

  /// A frame waiting to be processed, with the settings in force when it arrived.
  private struct Frame: Sendable {
    var number: Int
    var data: Data
    var settings: DetectionSettings
  }

  /// The settings a client may send as a text message; absent fields keep their value.
  struct SettingsMessage: StrictDecodable {
    static let fields: Set<String> = ["conf", "iou", "classes", "fov_deg", "focal_px", "search", "k"]
    var conf: Double?
    var iou: Double?
    var classes: [String]?
    var fov_deg: Double?
    var focal_px: Double?
    var search: Bool?
    var k: Int?
  }

  func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
    let (frames, slot) = AsyncStream.makeStream(of: Frame.self, bufferingPolicy: .bufferingNewest(1))
    let dropped = LockedValue(0)
    await withTaskGroup(of: Void.self) { group in
      group.addTask { await process(frames, dropped: dropped, outbound: outbound) }
      await receive(inbound: inbound, outbound: outbound, slot: slot, dropped: dropped)
      slot.finish()
    }
  }

  private func receive(
    inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, slot: AsyncStream<Frame>.Continuation,
    dropped: LockedValue<Int>
  ) async {
    var settings = DetectionSettings()
    var frameNumber = 0
    let maxSize = state.configuration.limits.maxBodyBytes
    do {
      for try await message in inbound.messages(maxSize: maxSize) {
        switch message {
        case .binary(let buffer):
          frameNumber += 1
          if case .dropped = slot.yield(
            Frame(number: frameNumber, data: Data(buffer: buffer), settings: settings))
          {
            dropped.set(dropped.get() + 1)
            state.metrics.arFrame(dropped: true)
          }
        case .text(let text):
          do {
            settings = try updated(settings, with: text)
          } catch {
            try await send(errorReply(frame: nil, error), to: outbound)
          }
        }
      }
    } catch {
      logger.debug("AR stream closed: \(error)")
    }
  }

  private func process(
    _ frames: AsyncStream<Frame>, dropped: LockedValue<Int>, outbound: WebSocketOutboundWriter
  ) async {
    for await frame in frames {
      let started = ContinuousClock.now
      let reply: String
      do {
        let services = try state.services()
        let image = try await decodeImage(frame.data, maxPixels: services.limits.maxPixels)
        let objects = try await frame.settings.run(on: image, services: services)
        state.metrics.arFrame(dropped: false)
        reply = encode(
          DetectionResponse(
            frame: frame.number, dropped: dropped.get(), width: image.width, height: image.height,
            detections: objects, tookMilliseconds: started.duration(to: .now).milliseconds))
      } catch {
        reply = errorReply(frame: frame.number, error)
      }
      do {
        try await send(reply, to: outbound)
      } catch {
        return  // the client is gone
      }
    }
  }

  private func updated(_ settings: DetectionSettings, with text: String) throws -> DetectionSettings {
    let services = try state.services()
    let message = try JSONBody.decode(SettingsMessage.self, from: Data(text.utf8))
    var next = try DetectionSettings(
      conf: message.conf, iou: message.iou, classes: message.classes, fieldOfView: message.fov_deg,
      focalPixels: message.focal_px, search: message.search, k: message.k, services: services)
    // Absent fields keep their current value.
    if message.conf == nil { next.options.confidenceThreshold = settings.options.confidenceThreshold }
    if message.iou == nil { next.options.iouThreshold = settings.options.iouThreshold }
    if message.classes == nil { next.options.classes = settings.options.classes }
    if message.fov_deg == nil && message.focal_px == nil { next.distance = settings.distance }
    if message.search == nil { next.search = settings.search }
    if message.k == nil { next.k = settings.k }
    guard (0...1).contains(next.options.confidenceThreshold), (0...1).contains(next.options.iouThreshold)
    else {
      throw APIError.invalidParameter("'conf' and 'iou' must lie in 0…1")
    }
    return next
  }

  private struct ErrorReply: Encodable {
    struct Detail: Encodable {
      var code: String
      var message: String
    }
    var frame: Int?
    var error: Detail
  }

  private func errorReply(frame: Int?, _ error: any Error) -> String {
    let apiError = APIError(error)
    return encode(ErrorReply(frame: frame, error: .init(code: apiError.code, message: apiError.message)))
  }

  private func encode(_ value: some Encodable) -> String {
    (try? JSONEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  private func send(_ text: String, to outbound: WebSocketOutboundWriter) async throws {
    try await outbound.write(.text(text))
  }
}
