import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The exclusive lock of an embedded catalog: an advisory `flock` on `catalog.sqlite.lock`
/// beside the database, holding the owner's pid.
///
/// Two servers on one SQLite file would each keep in-memory indexes the other never updates
/// (stale searches, deleted items coming back), so a writer takes this lock for as long as the
/// catalog is open. The kernel drops the lock when the process ends, even on kill -9, so a
/// stale lock file never blocks a restart.
/// `@unchecked Sendable`: it holds one constant file descriptor; the kernel's lock is the state.
final class CatalogLock: @unchecked Sendable {
  private let descriptor: Int32

  /// Takes the lock for the catalog at `databasePath`, or throws `.locked` naming the holder.
  init(databasePath: String) throws {
    let lockPath = databasePath + ".lock"
    let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw CatalogError.storage("cannot open the lock file \(lockPath): \(String(cString: strerror(errno)))")
    }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      let holder = Self.holder(descriptor)
      close(descriptor)
      throw CatalogError.locked(Self.lockedMessage(databasePath, holder: holder))
    }
    let pid = "\(getpid())\n"
    _ = ftruncate(descriptor, 0)
    _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    self.descriptor = descriptor
  }

  deinit {
    // Closing the descriptor releases the flock; the file stays (removing it would race with
    // a process that has just opened it).
    close(descriptor)
  }

  static func lockedMessage(_ databasePath: String, holder: String?) -> String {
    """
    the catalog \(databasePath) is in use by another Glimpse process\
    \(holder.map { " (pid \($0))" } ?? ""): an embedded SQLite catalog serves one server at a time. \
    Stop that process, or use PostgreSQL (--store postgres://…) for several servers on one catalog
    """
  }

  /// The pid the holder wrote, if readable.
  private static func holder(_ descriptor: Int32) -> String? {
    var buffer = [UInt8](repeating: 0, count: 32)
    let count = pread(descriptor, &buffer, buffer.count, 0)
    guard count > 0 else { return nil }
    let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(
      in: .whitespacesAndNewlines)
    return text.isEmpty ? nil : text
  }
}
