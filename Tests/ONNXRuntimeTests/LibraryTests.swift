import Foundation
import Testing

@testable import ONNXRuntime

@Suite struct LibraryTests {
  @Test func loadsTheProjectLibraryAndChecksItsVersion() throws {
    let library = try ORTLibrary.load(explicitPath: TestSupport.libraryPath)
    #expect(library.version.hasPrefix("1.31."))
    #expect(try library.availableProviders().contains("CPUExecutionProvider"))
    #expect(!library.buildInfo.isEmpty)
  }

  /// The process has one environment: asking for it with another library (here the same file
  /// through a symbolic link, which `load` treats as another library) is refused, not answered
  /// with the first one.
  @Test func aSecondLibraryIsRefusedTheEnvironment() throws {
    _ = try TestSupport.environment()
    let link = FileManager.default.temporaryDirectory.appendingPathComponent("ort-\(UUID()).so").path
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: TestSupport.libraryPath)
    defer { try? FileManager.default.removeItem(atPath: link) }
    let other = try ORTLibrary.load(explicitPath: link)
    #expect(throws: ORTError.environmentExists(library: TestSupport.libraryPath, requested: link)) {
      try ORTEnvironment.shared(library: other)
    }
    #expect(try TestSupport.environment().library.path == TestSupport.libraryPath)
  }

  @Test func missingLibraryNamesThePathsAndTheSetupCommand() {
    #expect {
      try ORTLibrary.load(explicitPath: "/nonexistent/libonnxruntime.so")
    } throws: { error in
      let text = "\(error)"
      return text.contains("/nonexistent/libonnxruntime.so") && text.contains("scripts/setup")
    }
  }

  @Test func searchOrderIsFlagThenEnvironmentThenDepsThenSystem() {
    let explicit = LibraryLocator.candidates(
      explicitPath: "/x/lib.so", environment: ["GLIMPSE_ORT_LIB": "/y/lib.so"])
    #expect(explicit.map(\.path) == ["/x/lib.so"])
    let fromEnvironment = LibraryLocator.candidates(
      explicitPath: nil, environment: ["GLIMPSE_ORT_LIB": "/y/lib.so"])
    #expect(fromEnvironment.map(\.path) == ["/y/lib.so"])
    let automatic = LibraryLocator.candidates(
      explicitPath: nil, environment: [:], currentDirectory: "/work/app",
      executablePath: "/opt/glimpse/bin/glimpse")
    #expect(automatic.first?.path == "/work/app/.deps/onnxruntime/lib/libonnxruntime.so.1.31.1")
    #expect(automatic.contains { $0.path == "/opt/glimpse/lib/libonnxruntime.so.1.31.1" })
    #expect(automatic.last?.path == "libonnxruntime.so")
  }

  @Test func aLibraryThatIsNotONNXRuntimeIsRefused() {
    #expect {
      try ORTLibrary.load(explicitPath: "libz.so.1")
    } throws: { error in
      "\(error)".contains("OrtGetApiBase")
    }
  }

  @Test func otherReleasesAreRefusedWithTheVersionFound() {
    #expect {
      try ORTLibrary.checkVersion("1.30.0", path: "/lib/libonnxruntime.so")
    } throws: { error in
      "\(error)".contains("1.30.0") && "\(error)".contains("1.31.x")
    }
    #expect(throws: Never.self) { try ORTLibrary.checkVersion("1.31.1", path: "x") }
  }
}
