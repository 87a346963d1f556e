import Foundation
import FuzzTargets
import Testing

/// Replays every committed fuzz input (the corpora and the inputs that once crashed a target)
/// through the same entry the libFuzzer build calls, in the normal debug build: a crash here is
/// a regression; an error thrown by a parser is the expected answer to bad input.
@Suite struct FuzzRegressionTests {
  static let fuzzFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz")

  /// The files of `Fuzz/<kind>/<target>/`, empty when the folder does not exist.
  static func inputs(_ kind: String, _ target: FuzzTarget) throws -> [URL] {
    let folder = fuzzFolder.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
    guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
    return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
      .filter { !$0.lastPathComponent.hasPrefix(".") }
      .sorted { $0.path < $1.path }
  }

  @Test(arguments: FuzzTarget.allCases)
  func committedInputsDoNotCrash(_ target: FuzzTarget) throws {
    let corpus = try Self.inputs("Corpus", target)
    // Every target has a committed corpus: a missing folder would make this test vacuous.
    #expect(!corpus.isEmpty, "no corpus in Fuzz/Corpus/\(target.rawValue)")
    for file in try corpus + Self.inputs("Regressions", target) {
      target.run(try Data(contentsOf: file))
    }
  }
}
