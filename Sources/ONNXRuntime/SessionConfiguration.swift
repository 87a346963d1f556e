/// How a session is built: threads, graph optimization, execution providers.
public struct SessionConfiguration: Sendable {
  /// Threads inside one operator; 0 lets ORT use one per physical core.
  public var intraOpThreads: Int = 0
  /// Threads across independent operators (only used in parallel execution mode).
  public var interOpThreads: Int = 0
  public var optimizationLevel: GraphOptimizationLevel = .all
  /// Providers to try, most preferred first. The CPU provider is always there last.
  public var providers: [ExecutionProvider] = []
  /// When true, a provider that cannot be added is an error instead of a fallback to CPU:
  /// `--device cuda` means CUDA or nothing, `--device auto` means CUDA if it works.
  public var requireProviders: Bool = false
  /// ORT's CPU arena trades memory for speed on repeated runs of the same shapes.
  public var cpuMemoryArena: Bool = true
  /// Free dimensions fixed at load (e.g. `["batch": 1]`) so ORT can plan memory statically.
  public var freeDimensionOverrides: [String: Int] = [:]
  /// Whether ORT's intra-op threads spin between work items instead of sleeping. Spinning
  /// saves microseconds on the CPU provider; on a GPU the pool only runs shape operators,
  /// and its spinning threads took CPU from image preparation (`forDevice` turns it off).
  public var allowSpinning: Bool = true
  /// A folder where the optimized graph of each CPU session is kept (`OptimizedModelCache`):
  /// later loads skip graph optimization, most of a large model's load time. nil: no cache.
  public var optimizedModelCacheFolder: String? = nil
  /// Where ORT writes the optimized graph of this session (set by the cache).
  var optimizedModelOutputPath: String? = nil

  public init() {}
}

/// `GraphOptimizationLevel` from the C API.
public enum GraphOptimizationLevel: Int32, Sendable {
  case disabled = 0
  case basic = 1
  case extended = 2
  case all = 99
}

/// An ONNX Runtime execution provider and its settings.
public enum ExecutionProvider: Sendable, Equatable {
  case cpu
  case cuda(CUDAOptions)
  case tensorRT(TensorRTOptions)

  /// The name ORT reports in `GetAvailableProviders`.
  public var ortName: String {
    switch self {
    case .cpu: "CPUExecutionProvider"
    case .cuda: "CUDAExecutionProvider"
    case .tensorRT: "TensorrtExecutionProvider"
    }
  }
}

/// Settings of ORT's CUDA provider (`OrtCUDAProviderOptionsV2` keys).
public struct CUDAOptions: Sendable, Equatable {
  public var deviceID: Int = 0
  /// Upper bound of the provider's memory arena in bytes; nil leaves ORT's default (no bound).
  public var memoryLimitBytes: Int? = nil
  /// `kSameAsRequested` grows the arena only by what each allocation needs, instead of
  /// doubling: a bounded arena on a GPU shared with other processes.
  public var arenaExtendStrategy: String = "kSameAsRequested"
  /// `EXHAUSTIVE` benchmarks every cuDNN convolution algorithm once per shape, the
  /// equivalent of PyTorch's `cudnn.benchmark = True`.
  public var cudnnConvAlgoSearch: String = "EXHAUSTIVE"
  /// CUDA graphs replay a captured run; only valid when input shapes never change.
  public var enableCUDAGraph: Bool = false

  public init(deviceID: Int = 0) { self.deviceID = deviceID }

  var keyValues: [(String, String)] {
    var pairs: [(String, String)] = [
      ("device_id", String(deviceID)),
      ("arena_extend_strategy", arenaExtendStrategy),
      ("cudnn_conv_algo_search", cudnnConvAlgoSearch),
      ("do_copy_in_default_stream", "1"),
      ("enable_cuda_graph", enableCUDAGraph ? "1" : "0"),
    ]
    if let memoryLimitBytes { pairs.append(("gpu_mem_limit", String(memoryLimitBytes))) }
    return pairs
  }
}

/// Settings of ORT's TensorRT provider (`OrtTensorRTProviderOptionsV2` keys).
public struct TensorRTOptions: Sendable, Equatable {
  public var deviceID: Int = 0
  public var fp16: Bool = false
  /// Where built engines are cached, so a restart does not rebuild them (minutes).
  public var engineCachePath: String? = nil

  public init(deviceID: Int = 0, fp16: Bool = false, engineCachePath: String? = nil) {
    self.deviceID = deviceID
    self.fp16 = fp16
    self.engineCachePath = engineCachePath
  }

  var keyValues: [(String, String)] {
    var pairs: [(String, String)] = [
      ("device_id", String(deviceID)),
      ("trt_fp16_enable", fp16 ? "1" : "0"),
    ]
    if let engineCachePath {
      pairs.append(("trt_engine_cache_enable", "1"))
      pairs.append(("trt_engine_cache_path", engineCachePath))
    }
    return pairs
  }
}
