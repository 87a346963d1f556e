import Foundation
import Testing

@testable import ONNXRuntime

/// Runs the tiny models made by scripts/make-test-models through the binding and compares
/// with the outputs onnxruntime's Python API produced for the same inputs.
@Suite struct SessionGoldenTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var model: String
    var golden: String
    var tolerance: Float
    var testDescription: String { model }
  }

  static let cases: [Case] = [
    Case(model: "clip-tiny/visual/model.onnx", golden: "clip-tiny/golden/visual", tolerance: 1e-5),
    Case(model: "clip-tiny/visual/model.fp16.onnx", golden: "clip-tiny/golden/visual.fp16", tolerance: 2e-3),
    Case(model: "clip-tiny/textual/model.onnx", golden: "clip-tiny/golden/textual", tolerance: 1e-5),
    Case(
      model: "clip-tiny/textual/model.fp16.onnx", golden: "clip-tiny/golden/textual.fp16", tolerance: 2e-3),
    Case(model: "yolo-tiny/model.onnx", golden: "yolo-tiny/golden/model", tolerance: 1e-4),
    Case(model: "yolo-2class-fp16/model.onnx", golden: "yolo-2class-fp16/golden/model", tolerance: 2e-3),
  ]

  @Test(arguments: cases) func matchesPythonOnnxruntime(_ testCase: Case) throws {
    let session = try TestSupport.session(testCase.model)
    let input = try NumpyFile.read(TestSupport.model(testCase.golden + ".input.npy"))
    let expected = try NumpyFile.read(TestSupport.model(testCase.golden + ".output.npy"))
    let outputs = try session.run([session.inputs[0].name: input])
    let actual = try #require(outputs[session.outputs[0].name])
    #expect(actual.shape == expected.shape)
    #expect(actual.elementType == expected.elementType)
    let difference = TestSupport.maxAbsDifference(actual, expected)
    #expect(difference <= testCase.tolerance, "max abs diff \(difference)")
  }
}

@Suite struct SessionTests {
  @Test func describesInputsOutputsAndDynamicDimensions() throws {
    let visual = try TestSupport.session("clip-tiny/visual/model.onnx")
    let input = try #require(visual.inputs.first)
    #expect(input.elementType == .float32)
    #expect(input.shape == [-1, 3, 224, 224])
    #expect(input.symbolicShape.first == "batch")
    let textual = try TestSupport.session("clip-tiny/textual/model.onnx")
    #expect(textual.inputs.first?.elementType == .int64)
    #expect(visual.providers == ["CPUExecutionProvider"])
  }

  @Test func readsUltralyticsMetadata() throws {
    let detector = try TestSupport.session("yolo-tiny/model.onnx")
    let custom = detector.metadata.custom
    #expect(custom["task"] == "detect")
    #expect(custom["stride"] == "32")
    #expect(custom["imgsz"] == "[128, 128]")
    #expect(custom["names"]?.hasPrefix("{0: 'person', 1: 'bicycle'") == true)
  }

  /// The first load writes the optimized graph into the cache, the second loads it with
  /// optimization off; both give the Python reference's output and keep the metadata.
  @Test func optimizedModelCacheIsWrittenThenUsed() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ort-cache-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var configuration = SessionConfiguration()
    configuration.intraOpThreads = 1
    configuration.optimizedModelCacheFolder = folder
    let input = try NumpyFile.read(TestSupport.model("yolo-tiny/golden/model.input.npy"))
    let expected = try NumpyFile.read(TestSupport.model("yolo-tiny/golden/model.output.npy"))
    for load in 1...2 {
      let session = try Session(
        modelPath: TestSupport.model("yolo-tiny/model.onnx").path, environment: TestSupport.environment(),
        configuration: configuration)
      let cached = try FileManager.default.contentsOfDirectory(atPath: folder)
      #expect(cached.count == 1 && cached[0].hasSuffix(".optimized.onnx"), "load \(load): \(cached)")
      #expect(session.metadata.custom["stride"] == "32", "metadata survives the cache")
      let output = try #require(try session.run([session.inputs[0].name: input])[session.outputs[0].name])
      #expect(TestSupport.maxAbsDifference(output, expected) <= 1e-4, "load \(load)")
    }
  }

  @Test func missingModelFileIsNamed() {
    #expect {
      try TestSupport.session("does-not-exist/model.onnx")
    } throws: { error in
      "\(error)".contains("does-not-exist/model.onnx") && "\(error)".contains("no such file")
    }
  }

  @Test func corruptModelFileIsNamedWithORTsMessage() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID()).onnx")
    try Data("this is not a protobuf".utf8).write(to: path)
    defer { try? FileManager.default.removeItem(at: path) }
    #expect {
      try Session(modelPath: path.path, environment: TestSupport.environment())
    } throws: { error in
      guard case ORTError.modelLoad(let failedPath, let message) = error else { return false }
      return failedPath == path.path && !message.isEmpty
    }
  }

  @Test func wrongElementTypeOrShapeIsAClearError() throws {
    let visual = try TestSupport.session("clip-tiny/visual/model.onnx")
    let ints = try Tensor(zeros: .int64, shape: [1, 3, 224, 224])
    #expect {
      try visual.run(["image": ints])
    } throws: { error in
      "\(error)".contains("expects float32, got int64")
    }
    let wrongSize = try Tensor(zeros: .float32, shape: [1, 3, 100, 224])
    #expect {
      try visual.run(["image": wrongSize])
    } throws: { error in
      "\(error)".contains("expects shape")
    }
    #expect(throws: ORTError.self) { try visual.run(["pixels": wrongSize]) }
    #expect(throws: ORTError.self) { try visual.run([:]) }
    #expect(throws: ORTError.self) { try Tensor(float32: [1, 2, 3], shape: [2, 2]) }
  }

  @Test func ioBindingGivesTheSameResultAsRun() throws {
    let session = try TestSupport.session("yolo-tiny/model.onnx")
    let input = try NumpyFile.read(TestSupport.model("yolo-tiny/golden/model.input.npy"))
    let plain = try session.run([session.inputs[0].name: input])
    let bound = try session.runWithBinding([session.inputs[0].name: input])
    let name = session.outputs[0].name
    #expect(TestSupport.maxAbsDifference(try #require(plain[name]), try #require(bound[name])) == 0)
  }

  /// The session setting GPU sessions use (ORT's threads sleep instead of spinning) goes
  /// through `AddSessionConfigEntry` and leaves the results as they were.
  @Test func threadsThatDoNotSpinGiveTheSameResult() throws {
    var configuration = SessionConfiguration()
    configuration.intraOpThreads = 2
    configuration.allowSpinning = false
    let quiet = try Session(
      modelPath: TestSupport.model("yolo-tiny/model.onnx").path, environment: TestSupport.environment(),
      configuration: configuration)
    let plain = try TestSupport.session("yolo-tiny/model.onnx")
    let input = try NumpyFile.read(TestSupport.model("yolo-tiny/golden/model.input.npy"))
    let name = plain.outputs[0].name
    let expected = try #require(try plain.run([plain.inputs[0].name: input])[name])
    let actual = try #require(try quiet.run([quiet.inputs[0].name: input])[name])
    #expect(TestSupport.maxAbsDifference(actual, expected) <= 1e-5)
  }

  @Test func oneSessionServesConcurrentTasks() async throws {
    let session = try TestSupport.session("clip-tiny/textual/model.onnx")
    let input = try NumpyFile.read(TestSupport.model("clip-tiny/golden/textual.input.npy"))
    let expected = try session.run(["text": input])["embedding"]!.floatValues()
    try await withThrowingTaskGroup(of: [Float].self) { group in
      for _ in 0..<16 {
        group.addTask { try session.run(["text": input])["embedding"]!.floatValues() }
      }
      for try await result in group {
        #expect(result == expected)
      }
    }
  }

  /// 1,000 runs must not grow the process: every OrtValue, status and name is released.
  /// Resident memory is process-wide, so this runs alone (scripts/test runs it in a second
  /// `swift test` with GLIMPSE_LEAK_TEST=1) rather than beside tests that decode 12 MP images.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["GLIMPSE_LEAK_TEST"] == "1"))
  func repeatedRunsDoNotLeak() throws {
    let session = try TestSupport.session("yolo-tiny/model.onnx")
    let input = try NumpyFile.read(TestSupport.model("yolo-tiny/golden/model.input.npy"))
    let name = session.inputs[0].name
    for _ in 0..<50 { _ = try session.run([name: input]) }
    let before = TestSupport.residentBytes()
    for index in 0..<1000 {
      _ = index.isMultiple(of: 2) ? try session.run([name: input]) : try session.runWithBinding([name: input])
    }
    let growth = TestSupport.residentBytes() - before
    #expect(growth < 4 * 1024 * 1024, "resident memory grew by \(growth) bytes over 1,000 runs")
  }
}

@Suite struct NumpyFileTests {
  @Test func roundTripsTensors() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("t-\(UUID()).npy")
    defer { try? FileManager.default.removeItem(at: url) }
    let tensor = try Tensor(int64: [49406, 320, 49407], shape: [1, 3])
    try NumpyFile.write(tensor, to: url)
    let read = try NumpyFile.read(url)
    #expect(read.shape == [1, 3])
    #expect(read.int64Values() == [49406, 320, 49407])
    let header = try Data(contentsOf: url).prefix(128)
    #expect(String(decoding: header, as: UTF8.self).contains("'descr': '<i8'"))
  }
}
