import Foundation
import ONNXRuntime

/// Paths and shared objects for the binding tests.
enum TestSupport {
  /// The checkout's root, found from this file's location (Tests/ONNXRuntimeTests/…).
  static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  static let testModels = repositoryRoot.appendingPathComponent("models/test")

  static func model(_ relativePath: String) -> URL {
    testModels.appendingPathComponent(relativePath)
  }

  /// The library `scripts/setup` unpacked; tests fail (not skip) without it.
  static let libraryPath = repositoryRoot.appendingPathComponent(
    ".deps/onnxruntime/lib/libonnxruntime.so.1.31.1"
  ).path

  static func environment() throws -> ORTEnvironment {
    try ORTEnvironment.shared(library: ORTLibrary.load(explicitPath: libraryPath))
  }

  /// One session per test process per path and thread count keeps the suite fast.
  static func session(_ relativePath: String) throws -> Session {
    var configuration = SessionConfiguration()
    configuration.intraOpThreads = 1
    return try Session(
      modelPath: model(relativePath).path, environment: environment(),
      configuration: configuration)
  }

  /// Largest absolute difference between two tensors' values, as Float.
  static func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.floatValues(), b.floatValues()).reduce(0) { max($0, abs($1.0 - $1.1)) }
  }

  /// Resident set size of this process in bytes, from /proc/self/statm.
  static func residentBytes() -> Int {
    let text = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? "0 0"
    let pages = Int(text.split(separator: " ")[1]) ?? 0
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }
}
