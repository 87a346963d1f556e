import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs blocking socket calls on a Dispatch thread: blocking one of Swift's few cooperative
/// threads would stall every task in the process, the server under test included.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
  }
}

/// A plain TCP connection to the server under test, for what HTTP clients will not send:
/// slow or broken requests, odd headers, raw WebSocket frames. Every call that waits is
/// async and waits on a Dispatch thread.
final class RawConnection: @unchecked Sendable {
  let descriptor: Int32

  /// Connects on a Dispatch thread (a full accept backlog makes connect() wait).
  static func open(port: Int) async throws -> RawConnection {
    try await blocking { try RawConnection(port: port) }
  }

  init(port: Int, host: String = "127.0.0.1") throws {
    descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw RawConnectionError("socket() failed: \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, host, &address.sin_addr)
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard result == 0 else {
      close(descriptor)
      throw RawConnectionError("connect() failed: \(errno)")
    }
  }

  deinit { close(descriptor) }

  func send(_ text: String) throws { try send(Data(text.utf8)) }

  func send(_ data: Data) throws {
    try data.withUnsafeBytes { bytes in
      var offset = 0
      while offset < bytes.count {
        let sent = Glibc.send(
          descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
        guard sent > 0 else { throw RawConnectionError("send() failed: \(errno)") }
        offset += sent
      }
    }
  }

  /// Closes the sending side: the server reads end-of-stream.
  func finishSending() { shutdown(descriptor, Int32(SHUT_WR)) }

  /// Everything the server sends until it closes the connection or `timeout` passes.
  func readUntilClosed(timeout: TimeInterval = 5) async -> (data: Data, closed: Bool) {
    (try? await blocking { self.readUntilClosedNow(timeout: timeout) }) ?? (Data(), false)
  }

  private func readUntilClosedNow(timeout: TimeInterval) -> (data: Data, closed: Bool) {
    var received = Data()
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      guard let chunk = readChunk(timeout: deadline.timeIntervalSinceNow) else { return (received, false) }
      if chunk.isEmpty { return (received, true) }
      received.append(chunk)
    }
    return (received, false)
  }

  /// One HTTP response (head and a Content-Length body), or what arrived before `timeout`.
  func readResponse(timeout: TimeInterval = 5) async -> RawResponse? {
    (try? await blocking { self.readResponseNow(timeout: timeout) }) ?? nil
  }

  private func readResponseNow(timeout: TimeInterval) -> RawResponse? {
    var received = Data()
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if let response = RawResponse(received) { return response }
      guard let chunk = readChunk(timeout: deadline.timeIntervalSinceNow), !chunk.isEmpty else {
        return RawResponse(received)
      }
      received.append(chunk)
    }
    return RawResponse(received)
  }

  /// Whether the server has closed the connection within `timeout`.
  func isClosed(within timeout: TimeInterval) async -> Bool {
    (try? await blocking { self.isClosedNow(within: timeout) }) ?? false
  }

  private func isClosedNow(within timeout: TimeInterval) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      guard let chunk = readChunk(timeout: deadline.timeIntervalSinceNow) else { return false }
      if chunk.isEmpty { return true }
    }
    return false
  }

  /// Bytes available within `timeout`: nil when none came, empty at end-of-stream or reset.
  private func readChunk(timeout: TimeInterval) -> Data? {
    var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    guard poll(&poller, 1, Int32(max(0, timeout) * 1000)) > 0 else { return nil }
    var buffer = [UInt8](repeating: 0, count: 65536)
    let count = recv(descriptor, &buffer, buffer.count, 0)
    return count <= 0 ? Data() : Data(buffer[0..<count])
  }
}

/// A parsed HTTP/1.1 response.
struct RawResponse {
  var status: Int
  var headers: [String: String]
  var body: Data

  /// nil until the head and the whole Content-Length body are in `data`.
  init?(_ data: Data) {
    guard let headEnd = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
    let head = String(decoding: data[data.startIndex..<headEnd.lowerBound], as: UTF8.self)
    let lines = head.components(separatedBy: "\r\n")
    let statusParts = lines[0].split(separator: " ")
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
      let pair = line.split(separator: ":", maxSplits: 1)
      if pair.count == 2 {
        headers[pair[0].lowercased()] = pair[1].trimmingCharacters(in: .whitespaces)
      }
    }
    let body = data[headEnd.upperBound...]
    if let length = headers["content-length"].flatMap(Int.init), body.count < length { return nil }
    self.status = status
    self.headers = headers
    self.body = Data(body)
  }

  var json: [String: Any] {
    (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
  }

  var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
}

struct RawConnectionError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// WebSocket frames written by hand, to send what a well-behaved client never would.
enum RawWebSocket {
  static func handshake(path: String = "/v1/ar/stream", port: Int, origin: String? = nil) -> String {
    var request =
      "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    if let origin { request += "Origin: \(origin)\r\n" }
    return request + "\r\n"
  }

  /// One frame with `opcode` and `payload` (shorter than 126 bytes), masked or not.
  static func frame(opcode: UInt8, payload: [UInt8], masked: Bool) -> Data {
    precondition(payload.count < 126)
    var bytes: [UInt8] = [0x80 | opcode, UInt8(payload.count) | (masked ? 0x80 : 0)]
    guard masked else { return Data(bytes + payload) }
    let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
    bytes += mask
    bytes += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    return Data(bytes)
  }

  /// The status code of the close frame in `data` (after the 101 response unless `afterHead`
  /// is false), if any.
  static func closeCode(in data: Data, afterHead: Bool = true) -> Int? {
    var start = data.startIndex
    if afterHead {
      guard let headEnd = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
      start = headEnd.upperBound
    }
    let frames = [UInt8](data[start...])
    var offset = 0
    while offset + 2 <= frames.count {
      let opcode = frames[offset] & 0x0F
      let length = Int(frames[offset + 1] & 0x7F)
      guard length < 126, offset + 2 + length <= frames.count else { return nil }
      if opcode == 0x8, length >= 2 { return Int(frames[offset + 2]) << 8 | Int(frames[offset + 3]) }
      offset += 2 + length
    }
    return nil
  }
}
