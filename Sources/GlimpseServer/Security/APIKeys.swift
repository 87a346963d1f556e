import Crypto
import Foundation
import NIOConcurrencyHelpers

/// What a key may do. Each scope includes the ones below it: `admin` ⊇ `write` ⊇ `read`.
public enum KeyScope: String, Sendable, Comparable, CaseIterable {
  /// Embeddings, search, detection, reading items (open to all unless `--require-key-for-reads`).
  case read
  /// Creating, replacing and deleting catalog items.
  case write
  /// Everything, including what may be added for operators.
  case admin

  public static func < (lhs: KeyScope, rhs: KeyScope) -> Bool {
    allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
  }
}

/// One accepted key: only its SHA-256 is kept, so neither the key file nor a memory dump
/// gives the key away.
public struct APIKey: Sendable, Equatable {
  public var name: String
  public var scope: KeyScope
  public var sha256: [UInt8]

  public init(name: String, scope: KeyScope, sha256: [UInt8]) {
    self.name = name
    self.scope = scope
    self.sha256 = sha256
  }

  /// A key given in plain text (`--api-key`), hashed at once.
  public init(name: String, scope: KeyScope, plainText: String) {
    self.init(name: name, scope: scope, sha256: Array(SHA256.hash(data: Data(plainText.utf8))))
  }

  /// The line a key file holds for this key.
  public var fileLine: String {
    "\(name) \(scope.rawValue) sha256:\(sha256.map { String(format: "%02x", $0) }.joined())"
  }
}

/// The key file: one key a line, `NAME SCOPE sha256:HEX`; `#` starts a comment.
/// `glimpse keys new NAME --scope write --file FILE` makes a key and appends its line.
public enum APIKeyFile {
  public static func parse(_ text: String) throws -> [APIKey] {
    var keys: [APIKey] = []
    for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
      let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
      guard !fields.isEmpty else { continue }
      guard fields.count == 3, let scope = KeyScope(rawValue: fields[1]), let hash = hexDigest(fields[2])
      else {
        throw ServerSetupError(
          "line \(number + 1): expected 'NAME read|write|admin sha256:<64 hex digits>', got '\(line.trimmingCharacters(in: .whitespaces))'"
        )
      }
      keys.append(APIKey(name: fields[0], scope: scope, sha256: hash))
    }
    return keys
  }

  public static func load(path: String) throws -> [APIKey] {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw ServerSetupError("cannot read the key file \(path): \(error.localizedDescription)")
    }
    do {
      return try parse(text)
    } catch let error as ServerSetupError {
      throw ServerSetupError("\(path): \(error.message)")
    }
  }

  private static func hexDigest(_ field: String) -> [UInt8]? {
    guard field.hasPrefix("sha256:") else { return nil }
    let hex = Array(field.dropFirst("sha256:".count).utf8)
    guard hex.count == 64 else { return nil }
    var bytes: [UInt8] = []
    for index in stride(from: 0, to: 64, by: 2) {
      guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else {
        return nil
      }
      bytes.append(byte)
    }
    return bytes
  }
}

public struct ServerSetupError: Error, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// The keys in force, replaced as a whole on reload (SIGHUP), checked in constant time.
public final class APIKeyRing: Sendable {
  private let keys: NIOLockedValueBox<[APIKey]>

  public init(_ keys: [APIKey]) { self.keys = NIOLockedValueBox(keys) }

  /// Whether any key is configured; with none, writes are open (a local, single-user setup).
  public var isEmpty: Bool { keys.withLockedValue { $0.isEmpty } }

  public func replace(with newKeys: [APIKey]) { keys.withLockedValue { $0 = newKeys } }

  /// The key whose hash matches `presented`. Every configured key is compared, each in
  /// constant time, so the answer's timing says nothing about how close a guess came.
  public func match(_ presented: String) -> APIKey? {
    let digest = Array(SHA256.hash(data: Data(presented.utf8)))
    var found: APIKey?
    for key in keys.withLockedValue({ $0 }) where Self.constantTimeEqual(key.sha256, digest) {
      found = found ?? key
    }
    return found
  }

  static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
  }
}
