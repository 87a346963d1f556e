/// How images are turned into model input: the exact CPU path (Pillow's arithmetic) or the
/// ONNX preprocessing graph on the model's device. `auto`: the graph on a GPU, where it saves
/// the CPU that caps throughput; the exact path on the CPU, where the graph brings nothing.
public enum PreprocessMode: String, Sendable, CaseIterable {
  case auto, exact, graph
}

/// Where JPEGs are decoded. `auto`: nvJPEG when the models run on a GPU and it loads.
public enum DecodeMode: String, Sendable, CaseIterable {
  case auto, cpu, nvjpeg
}

/// The GPU paths asked for (`--provider tensorrt`, `--cuda-graphs`, `--decode`, `--preprocess`).
public struct AcceleratorRequest: Sendable, Equatable {
  public var tensorRT: Bool
  public var cudaGraphs: Bool
  public var decode: DecodeMode
  public var preprocess: PreprocessMode

  public init(
    tensorRT: Bool = false, cudaGraphs: Bool = false, decode: DecodeMode = .auto,
    preprocess: PreprocessMode = .auto
  ) {
    self.tensorRT = tensorRT
    self.cudaGraphs = cudaGraphs
    self.decode = decode
    self.preprocess = preprocess
  }
}

/// What runs, once the device is chosen and the libraries are probed: every path asked for
/// that cannot run has one line in `fallbacks` naming the library (or device) that is
/// missing and what runs instead, for the start-up log.
public struct AcceleratorPlan: Sendable {
  public var tensorRT = false
  public var cudaGraphs = false
  public var nvjpeg: NVJPEG? = nil
  public var graphPreprocess = false
  public var fallbacks: [String] = []

  /// libnvinfer of TensorRT 10, which ORT's TensorRT provider links.
  public static let tensorRTLibraryNames = ["libnvinfer.so.10", "libnvinfer.so"]

  /// The plan for `request` on `choice`, with the libraries as `tensorRTLibrary` and
  /// `nvjpeg` open them (asked only when the path is wanted).
  public static func make(
    _ request: AcceleratorRequest, device choice: DeviceChoice,
    tensorRTLibrary: () -> Result<DynamicLibrary, LibraryUnavailable> = {
      DynamicLibrary.open(AcceleratorPlan.tensorRTLibraryNames)
    },
    nvjpeg: () -> Result<NVJPEG, LibraryUnavailable> = { NVJPEG.shared }
  ) -> AcceleratorPlan {
    var plan = AcceleratorPlan()
    let onGPU = choice.device.isGPU
    let cpuReason = "the device is cpu (\(choice.reason))"
    if request.tensorRT {
      switch (onGPU, tensorRTLibrary()) {
      case (false, _):
        plan.fallbacks.append(
          "TensorRT not used: it needs a CUDA device and \(cpuReason); models run on the CPU provider")
      case (true, .failure(let missing)):
        plan.fallbacks.append("TensorRT not used: \(missing); models run on the CUDA provider")
      case (true, .success): plan.tensorRT = true
      }
    }
    if request.cudaGraphs {
      if onGPU {
        plan.cudaGraphs = true
      } else {
        plan.fallbacks.append(
          "CUDA graphs not used: they need the CUDA provider and \(cpuReason); batches run unpadded")
      }
    }
    if request.decode == .nvjpeg || (request.decode == .auto && onGPU) {
      switch nvjpeg() {
      case .success(let decoder): plan.nvjpeg = decoder
      case .failure(let missing):
        plan.fallbacks.append("nvJPEG not used: \(missing); JPEGs are decoded on the CPU (libjpeg-turbo)")
      }
    }
    plan.graphPreprocess = request.preprocess == .graph || (request.preprocess == .auto && onGPU)
    return plan
  }
}
