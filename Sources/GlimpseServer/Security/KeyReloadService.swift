import Logging
import ServiceLifecycle
import UnixSignals

/// Re-reads the API key file on SIGHUP, so keys can be added or revoked without a restart.
/// A file that fails to parse leaves the keys in force and logs why.
struct KeyReloadService: Service {
  let access: AccessControl
  let logger: Logger

  func run() async throws {
    guard access.keyFile != nil else {
      try? await gracefulShutdown()
      return
    }
    for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
      do {
        let count = try access.reload()
        logger.info("Reloaded the API keys: \(count) in force")
      } catch {
        logger.error("API keys not reloaded, the previous ones stay in force: \(error)")
      }
    }
  }
}
