import Foundation
import HummingbirdWebSocket
import Imaging
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Services

/// One AR client's WebSocket: JPEG frames in (binary), settings in (text JSON), one answer
/// out per processed frame.
///
/// Frames that arrive while one is being processed wait in a slot that holds only the
/// newest: an older waiting frame is dropped (and counted) when a newer one arrives. A slow
/// model therefore answers the most recent view of the camera, and memory stays flat however
/// fast the client sends.
///
/// Frames are tracked (ByteTrack, on by default; `"track": false` turns it off): each object
/// carries its `track_id`, a smoothed distance and its track's cached catalog matches.
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
    static let fields: Set<String> = Set(["conf", "iou", "classes", "fov_deg", "focal_px", "search", "k"])
      .union(TrackingFields.names)
    var conf: Double?
    var iou: Double?
    var classes: [String]?
    var fov_deg: Double?
    var focal_px: Double?
    var search: Bool?
    var k: Int?
    var track: Bool?
    var track_high_thresh: Double?
    var track_low_thresh: Double?
    var new_track_thresh: Double?
    var track_buffer: Int?
    var match_thresh: Double?
    var fuse_score: Bool?
    var rematch_size_factor: Double?
    var rematch_frames: Int?
  }

  /// The settings a stream starts with: tracking on.
  static var initialSettings: DetectionSettings {
    var settings = DetectionSettings()
    settings.isTracking = true
    return settings
  }

  /// Serves the stream until the client closes it. A protocol error (invalid UTF-8, a message
  /// over the size limit) is rethrown, so that the WebSocket layer closes with its code.
  func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
    let (frames, slot) = AsyncStream.makeStream(of: Frame.self, bufferingPolicy: .bufferingNewest(1))
    let dropped = NIOLockedValueBox(0)
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { await process(frames, dropped: dropped, outbound: outbound) }
      defer { slot.finish() }
      try await receive(inbound: inbound, outbound: outbound, slot: slot, dropped: dropped)
    }
  }

  private func receive(
    inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, slot: AsyncStream<Frame>.Continuation,
    dropped: NIOLockedValueBox<Int>
  ) async throws {
    var settings = Self.initialSettings
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
            dropped.withLockedValue { $0 += 1 }
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
      throw error
    }
  }

  private func process(
    _ frames: AsyncStream<Frame>, dropped: NIOLockedValueBox<Int>, outbound: WebSocketOutboundWriter
  ) async {
    // The frame-rate cap: after a frame, the next one starts no sooner than this. Frames that
    // arrive meanwhile wait in the one-frame slot, so only the newest is kept.
    let interval = Duration.seconds(1 / state.configuration.limits.arMaxFramesPerSecond)
    // The stream's tracker: made when tracking is on, dropped when it is turned off (turned
    // on again, it starts afresh).
    var tracker: StreamTracker?
    for await frame in frames {
      let started = ContinuousClock.now
      if frame.settings.isTracking {
        tracker = tracker ?? StreamTracker(settings: frame.settings.tracking)
        tracker?.settings = frame.settings.tracking
      } else {
        tracker = nil
      }
      let reply = await answer(frame, dropped: dropped, tracker: tracker)
      do {
        try await send(reply, to: outbound)
      } catch {
        return  // the client is gone
      }
      try? await Task.sleep(until: started + interval)
    }
  }

  /// The answer to one frame, or its error, as JSON text.
  private func answer(_ frame: Frame, dropped: NIOLockedValueBox<Int>, tracker: StreamTracker?) async
    -> String
  {
    let started = ContinuousClock.now
    do {
      let services = try state.services()
      return try await state.pixelBudget.withLedger {
        let image = try await services.decodeImage(frame.data)
        let objects = try await frame.settings.run(
          on: image, services: services, stream: tracker.map { StreamFrame(tracker: $0, frame: frame.number) }
        )
        state.metrics.arFrame(dropped: false)
        return encode(
          DetectionResponse(
            frame: frame.number, dropped: dropped.withLockedValue { $0 }, width: image.width,
            height: image.height,
            detections: objects, tookMilliseconds: started.duration(to: .now).milliseconds))
      }
    } catch {
      return errorReply(frame: frame.number, error)
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
    next.confidenceIsDefault = message.conf == nil && settings.confidenceIsDefault
    // `track` turns tracking on or off; the other tracking fields change the settings in
    // force (or, with tracking off, those it will start with).
    let fields = TrackingFields(message: message)
    next.tracking = try fields.applied(to: settings.tracking)
    next.isTracking = fields.track ?? settings.isTracking
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
