import Foundation
import LogCapture
import Logging
import Testing

@testable import ONNXRuntime

/// GPU providers this ONNX Runtime build lacks (TensorRT, CUDA on the CPU build CI uses) are
/// each a warning naming what runs instead, and the session still runs.
@Suite struct ProviderFallbackTests {
  @Test func tensorRTFallsBackToCUDAAndCUDAToTheCPU() throws {
    let library = try ORTLibrary.load(explicitPath: TestSupport.libraryPath)
    let available = try library.availableProviders()
    try #require(!available.contains("TensorrtExecutionProvider"), "this ORT build has TensorRT")
    let captured = CapturedLog()
    var configuration = SessionConfiguration()
    configuration.providers = [.tensorRT(TensorRTOptions(fp16: true)), .cuda(CUDAOptions())]
    configuration.intraOpThreads = 1
    let session = try Session(
      modelPath: TestSupport.model("clip-tiny/visual/model.onnx").path,
      environment: TestSupport.environment(),
      configuration: configuration, logger: Logger(label: "test") { _ in captured })
    #expect(session.providers == ["CPUExecutionProvider"])
    let lines = captured.lines
    #expect(
      lines.contains {
        $0.hasPrefix(
          "warning: TensorrtExecutionProvider could not be added, falling back to CUDAExecutionProvider")
      },
      "\(lines)")
    #expect(
      lines.contains {
        $0.hasPrefix("warning: CUDAExecutionProvider could not be added, falling back to the CPU")
      },
      "\(lines)")
    let input = try Tensor(zeros: .float32, shape: [1, 3, 224, 224])
    #expect(try session.run([session.inputs[0].name: input]).count == 1)
  }

  /// A session that cannot capture CUDA graphs retries without them; one that never had the
  /// CUDA provider (this build) reports none.
  @Test func cudaGraphsAreDroppedWhenTheyCannotBeUsed() throws {
    var options = CUDAOptions()
    options.enableCUDAGraph = true
    var configuration = SessionConfiguration()
    configuration.providers = [.cuda(options)]
    configuration.intraOpThreads = 1
    #expect(configuration.usesCUDAGraph)
    let plain = try #require(configuration.withoutCUDAGraph)
    #expect(!plain.usesCUDAGraph && plain.providers.count == 1)
    #expect(SessionConfiguration().withoutCUDAGraph == nil)
    let session = try Session(
      modelPath: TestSupport.model("clip-tiny/visual/model.onnx").path,
      environment: TestSupport.environment(),
      configuration: configuration, logger: Logger(label: "test") { _ in CapturedLog() })
    #expect(!session.usesCUDAGraph && session.providers == ["CPUExecutionProvider"])
  }
}
