import Logging

/// An `OrtSessionOptions` built from a `SessionConfiguration`, released on deinit.
final class SessionOptions {
  let library: ORTLibrary
  let pointer: OpaquePointer
  /// Providers actually added, in ORT's names; CPU is always last.
  private(set) var activeProviders: [String] = []

  init(configuration: SessionConfiguration, library: ORTLibrary, logger: Logger) throws {
    self.library = library
    var options: OpaquePointer?
    try library.check(library.createSessionOptions(&options))
    self.pointer = options!
    try applyBasics(configuration)
    let providers = configuration.providers.filter { $0 != .cpu }
    for (index, provider) in providers.enumerated() {
      // What runs in its place: the next provider asked for (TensorRT → CUDA), else the CPU.
      let fallback = index + 1 < providers.count ? providers[index + 1].ortName : "the CPU"
      try append(provider, required: configuration.requireProviders, fallback: fallback, logger: logger)
    }
    activeProviders.append(ExecutionProvider.cpu.ortName)
  }

  deinit { library.releaseSessionOptions(pointer) }

  private func applyBasics(_ configuration: SessionConfiguration) throws {
    try library.check(library.setIntraOpNumThreads(pointer, Int32(configuration.intraOpThreads)))
    try library.check(library.setInterOpNumThreads(pointer, Int32(configuration.interOpThreads)))
    try library.check(
      library.setSessionGraphOptimizationLevel(pointer, configuration.optimizationLevel.rawValue))
    if !configuration.cpuMemoryArena {
      try library.check(library.disableCpuMemArena(pointer))
    }
    if let path = configuration.optimizedModelOutputPath {
      try library.check(library.setOptimizedModelFilePath(pointer, path))
    }
    if !configuration.allowSpinning {
      try library.check(library.addSessionConfigEntry(pointer, "session.intra_op.allow_spinning", "0"))
    }
    for (name, value) in configuration.freeDimensionOverrides.sorted(by: { $0.key < $1.key }) {
      try library.check(library.addFreeDimensionOverrideByName(pointer, name, Int64(value)))
    }
  }

  /// Adds one provider; on failure either throws (required) or logs why and goes on, so
  /// that the session runs on `fallback`.
  private func append(_ provider: ExecutionProvider, required: Bool, fallback: String, logger: Logger) throws
  {
    do {
      switch provider {
      case .cpu: return
      case .cuda(let options): try appendCUDA(options)
      case .tensorRT(let options): try appendTensorRT(options)
      }
      activeProviders.append(provider.ortName)
    } catch {
      let reason = (error as? ORTError).map(\.description) ?? "\(error)"
      if required {
        throw ORTError.providerUnavailable(provider: provider.ortName, reason: reason)
      }
      logger.warning(
        "\(provider.ortName) could not be added, falling back to \(fallback): \(reason)")
    }
  }

  private func appendCUDA(_ options: CUDAOptions) throws {
    try appendV2Provider(
      options.keyValues, create: library.createCUDAProviderOptions,
      update: library.updateCUDAProviderOptions,
      append: library.sessionOptionsAppendExecutionProviderCUDAV2,
      release: library.releaseCUDAProviderOptions)
  }

  private func appendTensorRT(_ options: TensorRTOptions) throws {
    try appendV2Provider(
      options.keyValues, create: library.createTensorRTProviderOptions,
      update: library.updateTensorRTProviderOptions,
      append: library.sessionOptionsAppendExecutionProviderTensorRTV2,
      release: library.releaseTensorRTProviderOptions)
  }

  /// The V2 provider protocol shared by CUDA and TensorRT: create an options object, set
  /// key/value pairs, append it to the session options, release it.
  private func appendV2Provider(
    _ pairs: [(String, String)],
    create: @convention(c) (OutHandle) -> Status,
    update: @convention(c) (Handle, CStringArray, CStringArray, Int) -> Status,
    append: @convention(c) (Handle, Handle) -> Status,
    release: @convention(c) (Handle) -> Void
  ) throws {
    var providerOptions: OpaquePointer?
    try library.check(create(&providerOptions))
    defer { release(providerOptions) }
    try setKeyValues(pairs) { keys, values, count in update(providerOptions, keys, values, count) }
    try library.check(append(pointer, providerOptions))
  }

  /// Passes key/value settings to one of ORT's `Update…ProviderOptions` functions.
  private func setKeyValues(
    _ pairs: [(String, String)],
    _ call: (
      UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>, Int
    ) -> OpaquePointer?
  ) throws {
    try withCStringArray(pairs.map(\.0)) { keys in
      try withCStringArray(pairs.map(\.1)) { values in
        try library.check(call(keys, values, pairs.count))
      }
    }
  }
}
