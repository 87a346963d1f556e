import Foundation

/// Runs the built `glimpse` binary (made by `swift build --build-tests`) as a user would.
struct CLIRunner {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let binary =
    ProcessInfo.processInfo.environment["GLIMPSE_BINARY"]
    ?? packageRoot.appendingPathComponent(".build/debug/glimpse").path
  static let indexFolder = packageRoot.appendingPathComponent(
    "Tests/GlimpseCLITests/Fixtures/generated/index-folder")
  static let tinyModel = packageRoot.appendingPathComponent("models/test/clip-tiny").path
  static let tinyDetector = packageRoot.appendingPathComponent("models/test/yolo-tiny").path
  /// Synthetic photos committed with the detection tests (scripts/make-yolo-test-models).
  static let detectionImages = packageRoot.appendingPathComponent("Tests/DetectionTests/Fixtures/images")

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
  }

  /// A started process whose output is collected as it comes; `kill()` ends it with SIGKILL.
  final class Running: @unchecked Sendable {
    let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var stdoutSoFar = Data()
    /// Signalled when standard output reaches its end (the handler has appended everything).
    private let stdoutEnded = DispatchSemaphore(value: 0)

    /// `environment` adds variables to the test's own, or removes those set to nil.
    init(_ arguments: [String], prefix: [String] = [], environment overrides: [String: String?] = [:]) throws
    {
      let command = prefix + [CLIRunner.binary] + arguments
      process.executableURL = URL(fileURLWithPath: command[0])
      process.arguments = Array(command.dropFirst())
      process.currentDirectoryURL = CLIRunner.packageRoot
      var environment = ProcessInfo.processInfo.environment
      environment["GLIMPSE_CLIP_MODEL"] = CLIRunner.tinyModel
      environment["GLIMPSE_DETECTOR_MODEL"] = CLIRunner.tinyDetector
      environment["GLIMPSE_LOG_LEVEL"] = "error"
      for (name, value) in overrides { environment[name] = value }
      process.environment = environment
      process.standardOutput = stdoutPipe
      process.standardError = stderrPipe
      stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
        let data = handle.availableData
        guard let self else { return }
        guard !data.isEmpty else {
          handle.readabilityHandler = nil
          stdoutEnded.signal()
          return
        }
        lock.withLock { stdoutSoFar.append(data) }
      }
      try process.run()
    }

    /// Waits (polling) until standard output contains `text` or the process ends.
    func waitForOutput(containing text: String, timeout: TimeInterval = 60) {
      let deadline = Date().addingTimeInterval(timeout)
      while process.isRunning && Date() < deadline {
        if lock.withLock({ String(decoding: stdoutSoFar, as: UTF8.self).contains(text) }) { return }
        Thread.sleep(forTimeInterval: 0.005)
      }
    }

    func kill() {
      Foundation.kill(process.processIdentifier, SIGKILL)
    }

    func wait() -> Result {
      // Standard error is read to the end first: a full pipe would block the child forever.
      let err = stderrPipe.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      // The handler reads standard output to its end; reading here as well raced with a
      // handler call in flight, which lost the output under load (a key printed by
      // `glimpse keys new` came back empty).
      _ = stdoutEnded.wait(timeout: .now() + 30)
      let out = lock.withLock { stdoutSoFar }
      return Result(
        status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
        stderr: String(decoding: err, as: UTF8.self))
    }
  }

  static func run(_ arguments: [String], prefix: [String] = [], environment: [String: String?] = [:]) throws
    -> Result
  {
    try Running(arguments, prefix: prefix, environment: environment).wait()
  }

  /// `run` on a thread of its own: a test that serves the binary from its own process must not
  /// block a thread of Swift's small cooperative pool while it waits.
  static func runDetached(_ arguments: [String], environment: [String: String?] = [:]) async throws -> Result
  {
    try await withCheckedThrowingContinuation { continuation in
      Thread.detachNewThread {
        continuation.resume(with: Swift.Result { try run(arguments, environment: environment) })
      }
    }
  }

  static func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("glimpse-cli-\(UUID())")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// Every image file under the index folder (what a complete run must store).
  static func imageFiles(in folder: URL) -> [String] {
    let enumerator = FileManager.default.enumerator(atPath: folder.path)
    var files: [String] = []
    while let path = enumerator?.nextObject() as? String {
      if ["jpg", "png"].contains((path as NSString).pathExtension) { files.append(path) }
    }
    return files.sorted()
  }
}
