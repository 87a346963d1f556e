import Foundation
import Hardware
import Testing

/// The GPU paths' fallbacks, with the real library loaders: on a machine without nvJPEG and
/// TensorRT (CI) each path asked for gives one line naming the library and the fallback.
@Suite struct AcceleratorPlanTests {
  static let cpu = DeviceChoice(request: .auto, device: .cpu, reason: "no NVIDIA GPU found by NVML")
  /// A GPU choice, as `DeviceSelector` makes it on a GPU machine: what runs there when its
  /// extra libraries are missing.
  static let gpu = DeviceChoice(request: .cuda(0), device: .cuda(0), reason: "requested")

  @Test func everyPathAskedForOnTheCPUFallsBackWithItsReason() {
    let request = AcceleratorRequest(tensorRT: true, cudaGraphs: true, decode: .nvjpeg, preprocess: .auto)
    let plan = AcceleratorPlan.make(request, device: Self.cpu)
    #expect(!plan.tensorRT && !plan.cudaGraphs && !plan.graphPreprocess)
    #expect(plan.fallbacks.contains { $0.hasPrefix("TensorRT not used") && $0.contains("CPU provider") })
    #expect(plan.fallbacks.contains { $0.hasPrefix("CUDA graphs not used") && $0.contains("unpadded") })
    if case .failure = NVJPEG.shared {
      #expect(plan.nvjpeg == nil)
      #expect(
        plan.fallbacks.contains { $0.contains("nvJPEG not used: libnvjpeg.so.13") && $0.contains("CPU") })
    }
  }

  @Test func missingLibrariesOnAGPUFallBackToCUDAAndTheCPUDecoder() throws {
    try #require(
      (try? DynamicLibrary.open(AcceleratorPlan.tensorRTLibraryNames).get()) == nil,
      "TensorRT is installed here")
    let plan = AcceleratorPlan.make(AcceleratorRequest(tensorRT: true), device: Self.gpu)
    #expect(!plan.tensorRT)
    #expect(
      plan.fallbacks.contains {
        $0.hasPrefix("TensorRT not used: libnvinfer.so.10 or libnvinfer.so cannot be loaded")
          && $0.hasSuffix("models run on the CUDA provider")
      }, "\(plan.fallbacks)")
    #expect(plan.graphPreprocess, "auto preprocessing is the graph on a GPU")
    if case .failure = NVJPEG.shared {
      #expect(
        plan.fallbacks.contains { $0.hasPrefix("nvJPEG not used") }, "auto decoding tries nvJPEG on a GPU")
    }
  }

  @Test func nothingAskedForLogsNothing() {
    let plan = AcceleratorPlan.make(AcceleratorRequest(), device: Self.cpu)
    #expect(plan.fallbacks.isEmpty && !plan.graphPreprocess && plan.nvjpeg == nil)
  }

  @Test func preprocessingRule() {
    for (mode, device, graph) in [
      (PreprocessMode.auto, Self.cpu, false), (.auto, Self.gpu, true), (.exact, Self.gpu, false),
      (.graph, Self.cpu, true),
    ] {
      let plan = AcceleratorPlan.make(
        AcceleratorRequest(decode: .cpu, preprocess: mode), device: device, nvjpeg: { NVJPEG.shared })
      #expect(plan.graphPreprocess == graph, "\(mode) on \(device.device)")
    }
  }

  @Test func aMissingLibraryNamesTheLoadersReason() {
    let result = DynamicLibrary.open(["libglimpse-no-such-library.so.1", "libglimpse-none.so"])
    guard case .failure(let missing) = result else {
      Issue.record("opened a library that does not exist")
      return
    }
    #expect(missing.library == "libglimpse-no-such-library.so.1 or libglimpse-none.so")
    #expect(
      missing.reason.contains("libglimpse-no-such-library.so.1"), "dlerror's message: \(missing.reason)")
  }

  @Test func nvJPEGLoadFailsCleanlyWithoutTheLibrary() {
    let result = NVJPEG.load(nvjpeg: ["libnvjpeg-missing.so.13"], cudaRuntime: NVJPEG.cudaRuntimeNames)
    guard case .failure(let missing) = result else {
      Issue.record("nvJPEG loaded from a library that does not exist")
      return
    }
    #expect(missing.description.hasPrefix("libnvjpeg-missing.so.13 cannot be loaded"))
  }
}

/// CUDA graphs' batch buckets: a pure policy.
@Suite struct BatchBucketsTests {
  @Test func batchesArePaddedToTheNextBucket() {
    let buckets = BatchBuckets(maxBatch: 128)
    #expect(buckets.sizes == [1, 8, 32, 128])
    let padded = [1, 2, 8, 9, 31, 32, 33, 100, 128].map(buckets.paddedSize)
    #expect(padded == [1, 8, 8, 32, 32, 32, 128, 128, 128])
  }

  @Test func theBatchLimitIsTheLastBucket() {
    #expect(BatchBuckets(maxBatch: 32).sizes == [1, 8, 32])
    #expect(BatchBuckets(maxBatch: 50).sizes == [1, 8, 32, 50])
    #expect(BatchBuckets(maxBatch: 50).paddedSize(for: 40) == 50)
    #expect(BatchBuckets(maxBatch: 4).sizes == [1, 4])
    #expect(BatchBuckets(maxBatch: 1).sizes == [1])
  }
}
