import AsyncHTTPClient
import Catalog
import Foundation
import NIOCore
import NIOHTTP1

/// Downloads one file of a model repository the way a package manager does: into
/// `PATH.partial` beside its target, resuming what an earlier attempt left there with an HTTP
/// Range request, checking size and SHA-256, and only then renaming it into place, so that a
/// target is either absent or complete and verified.
struct FileDownload {
  /// Attempts within one run; an interrupted run resumes from `.partial` next time too.
  static let attempts = 4

  let hub: HubClient
  let model: String
  let file: RemoteFile
  let target: URL
  let progress: FetchProgress

  enum Outcome {
    case downloaded(bytes: Int64, verified: Bool)
    case missing
  }

  private enum Step {
    case complete
    case missing
    case interrupted(FetchError)
  }

  var partial: URL { target.appendingPathExtension("partial") }
  private var address: String { hub.location.fileAddress(model, file.path) }

  func run() async throws -> Outcome {
    try createFolder()
    var expected = Announcement(sha256: file.sha256, size: file.size)
    for attempt in 1...Self.attempts {
      switch try await transfer(&expected) {
      case .missing: return .missing
      case .complete:
        try verify(expected)
        let bytes = partialSize()
        try place()
        return .downloaded(bytes: bytes, verified: expected.sha256 != nil)
      case .interrupted(let error):
        guard attempt < Self.attempts else { throw error }
        progress.note("\(file.path): \(error); resuming with a Range request")
      }
    }
    throw FetchError.interrupted(received: partialSize(), reason: "gave up")
  }

  /// One request: from the end of `.partial` when there is one.
  private func transfer(_ expected: inout Announcement) async throws -> Step {
    var offset = partialSize()
    let answer = try await hub.get(address, from: offset)
    expected = merged(expected, answer.announcement)
    switch answer.response.status.code {
    case 200:
      offset = 0  // the server ignored the range (or there was none): start over
    case 206 where rangeStart(answer.response.headers) == offset:
      break
    case 206, 416:
      // A range the server cannot serve: a `.partial` as long as the file is complete; any
      // other is stale (the file changed on the hub) and is dropped.
      _ = try? await answer.response.body.collect(upTo: 1 << 20)
      if let size = expected.size, size == offset { return .complete }
      try? FileManager.default.removeItem(at: partial)
      return .interrupted(.interrupted(received: offset, reason: "the server refused to resume"))
    case 404 where !file.required:
      _ = try? await answer.response.body.collect(upTo: 1 << 20)
      return .missing
    case let code:
      _ = try? await answer.response.body.collect(upTo: 1 << 20)
      throw hub.statusError(code, address, model)
    }
    return try await receive(answer.response, from: offset, size: expected.size)
  }

  private func merged(_ known: Announcement, _ announced: Announcement) -> Announcement {
    Announcement(sha256: known.sha256 ?? announced.sha256, size: known.size ?? announced.size)
  }

  /// `Content-Range: bytes START-END/TOTAL`.
  private func rangeStart(_ headers: HTTPHeaders) -> Int64? {
    guard let value = headers.first(name: "content-range"), let range = value.split(separator: " ").last
    else { return nil }
    return range.split(separator: "-").first.flatMap { Int64($0) }
  }

  /// Appends the body to `.partial` as it arrives, so that an interruption keeps every byte.
  private func receive(_ response: HTTPClientResponse, from offset: Int64, size: Int64?) async throws -> Step
  {
    let handle = try openPartial(at: offset)
    defer { try? handle.close() }
    let length = response.headers.first(name: "content-length").flatMap { Int64($0) }
    progress.begin(file.path, total: size ?? length.map { $0 + offset }, resumedAt: offset)
    do {
      for try await buffer in response.body {
        try write(buffer, to: handle)
        progress.advance(by: buffer.readableBytes)
      }
    } catch let error as FetchError {
      throw error
    } catch {
      return .interrupted(.interrupted(received: partialSize(), reason: FetchError.reason(error)))
    }
    return .complete
  }

  private func write(_ buffer: ByteBuffer, to handle: FileHandle) throws {
    do {
      try handle.write(contentsOf: Data(buffer.readableBytesView))
    } catch {
      throw FetchError.disk(path: partial.path, reason: "\(error.localizedDescription) (disk full?)")
    }
  }

  private func openPartial(at offset: Int64) throws -> FileHandle {
    do {
      if !FileManager.default.fileExists(atPath: partial.path) {
        guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
          throw CocoaError(.fileWriteNoPermission)
        }
      }
      let handle = try FileHandle(forWritingTo: partial)
      try handle.truncate(atOffset: UInt64(offset))
      try handle.seekToEnd()
      return handle
    } catch {
      throw FetchError.disk(path: partial.path, reason: error.localizedDescription)
    }
  }

  /// Size, then SHA-256 where the hub announced one; a file that fails either is removed.
  private func verify(_ expected: Announcement) throws {
    let size = partialSize()
    if let wanted = expected.size, wanted != size {
      try? FileManager.default.removeItem(at: partial)
      throw FetchError.mismatch(
        path: file.path, what: "size", expected: "\(wanted) bytes", got: "\(size) bytes")
    }
    guard let wanted = expected.sha256 else { return }
    progress.checking()
    let got = try ContentHash.sha256Hex(fileAt: partial)
    if got != wanted {
      try? FileManager.default.removeItem(at: partial)
      throw FetchError.mismatch(path: file.path, what: "SHA-256", expected: wanted, got: got)
    }
  }

  /// rename(2) replaces an older target in one step.
  private func place() throws {
    guard rename(partial.path, target.path) == 0 else {
      throw FetchError.disk(path: target.path, reason: String(cString: strerror(errno)))
    }
  }

  private func createFolder() throws {
    do {
      try FileManager.default.createDirectory(
        at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
    } catch {
      throw FetchError.disk(path: target.deletingLastPathComponent().path, reason: error.localizedDescription)
    }
  }

  func partialSize() -> Int64 {
    let attributes = try? FileManager.default.attributesOfItem(atPath: partial.path)
    return (attributes?[.size] as? NSNumber)?.int64Value ?? 0
  }
}
