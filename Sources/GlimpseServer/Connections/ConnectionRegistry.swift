import NIOConcurrencyHelpers
import NIOCore

/// The open connections and which of them are idle, for the connection cap
/// (`--max-connections`).
///
/// At the cap a new connection evicts the connection that has waited longest for a request
/// (an idle keep-alive or a half-sent head) rather than being refused: idle sockets cost the
/// server nothing it needs, so a flood of them cannot lock out a real client. Only when every
/// connection is busy with a request (or is an AR stream) is the newcomer refused.
final class ConnectionRegistry: Sendable {
  private struct Entry {
    let channel: any Channel
    /// When the connection last became idle; nil while a request or a stream is in progress.
    var idleSince: NIODeadline?
  }

  enum Admission {
    case admitted
    /// Admitted after closing this idle connection.
    case admittedByEvicting(any Channel)
    case refused
  }

  let limit: Int
  private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])

  init(limit: Int) { self.limit = limit }

  var count: Int { entries.withLockedValue { $0.count } }

  /// Registers a new connection (idle until its first request), evicting or refusing at the cap.
  func admit(_ channel: any Channel) -> Admission {
    let admission = entries.withLockedValue { entries -> Admission in
      var result = Admission.admitted
      if entries.count >= limit {
        let oldestIdle = entries.filter { $0.value.idleSince != nil }
          .min { $0.value.idleSince! < $1.value.idleSince! }
        guard let oldestIdle else { return .refused }
        entries[oldestIdle.key] = nil
        result = .admittedByEvicting(oldestIdle.value.channel)
      }
      entries[ObjectIdentifier(channel)] = Entry(channel: channel, idleSince: .now())
      return result
    }
    if case .admittedByEvicting(let evicted) = admission { evicted.close(promise: nil) }
    return admission
  }

  func setIdle(_ channel: any Channel, _ idle: Bool) {
    entries.withLockedValue { entries in
      entries[ObjectIdentifier(channel)]?.idleSince = idle ? .now() : nil
    }
  }

  func remove(_ channel: any Channel) {
    _ = entries.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
  }
}
