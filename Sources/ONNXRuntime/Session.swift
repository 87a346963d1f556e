import Foundation
import Logging

/// An ONNX Runtime inference session over one model file.
///
/// ORT documents `Run` as safe to call concurrently on one session, and everything else
/// here is immutable after `init`, so a `Session` can be shared between tasks.
public final class Session: @unchecked Sendable {
  public let modelPath: String
  public let inputs: [TensorInfo]
  public let outputs: [TensorInfo]
  public let metadata: ModelMetadata
  /// Execution providers in use, most preferred first (CPU last).
  public let providers: [String]
  /// Whether the CUDA provider captures and replays CUDA graphs (asked for and accepted).
  public let usesCUDAGraph: Bool

  let library: ORTLibrary
  let pointer: OpaquePointer
  /// Describes caller-owned CPU memory handed to ORT as input tensors.
  let cpuMemoryInfo: OpaquePointer

  public init(
    modelPath: String, environment: ORTEnvironment,
    configuration: SessionConfiguration = SessionConfiguration(),
    logger: Logger = Logger(label: "glimpse.onnxruntime")
  ) throws {
    guard FileManager.default.fileExists(atPath: modelPath) else {
      throw ORTError.modelLoad(path: modelPath, message: "no such file")
    }
    let library = environment.library
    self.library = library
    self.modelPath = modelPath
    let created = try Self.createUsingCache(
      modelPath: modelPath, environment: environment, configuration: configuration, logger: logger)
    let session = created.pointer
    self.pointer = session
    self.providers = created.providers
    self.usesCUDAGraph = created.usesCUDAGraph
    var memoryInfo: OpaquePointer?
    do {
      try library.check(
        library.createCpuMemoryInfo(AllocatorType.arena.rawValue, MemoryType.default.rawValue, &memoryInfo))
      let introspector = SessionIntrospector(library: library, session: session)
      self.inputs = try introspector.tensorInfos(kind: .input)
      self.outputs = try introspector.tensorInfos(kind: .output)
      self.metadata = try introspector.metadata()
    } catch {
      library.releaseMemoryInfo(memoryInfo)
      library.releaseSession(session)
      throw error
    }
    self.cpuMemoryInfo = memoryInfo!
  }

  deinit {
    library.releaseMemoryInfo(cpuMemoryInfo)
    library.releaseSession(pointer)
  }

  /// Creates the session from the optimized-model cache when the configuration has one and
  /// the session runs on the CPU: from the cached optimized graph with optimization off, or
  /// from the model file while ORT writes its optimized graph into the cache.
  private static func createUsingCache(
    modelPath: String, environment: ORTEnvironment, configuration: SessionConfiguration, logger: Logger
  ) throws -> Created {
    guard let folder = configuration.optimizedModelCacheFolder,
      configuration.providers.allSatisfy({ $0 == .cpu }), configuration.optimizationLevel != .disabled
    else {
      return try create(
        modelPath: modelPath, environment: environment, configuration: configuration, logger: logger)
    }
    let cache = OptimizedModelCache(folder: folder, library: environment.library)
    let entry = cache.entry(for: modelPath, configuration: configuration)
    if let cached = entry.existing {
      var fromCache = configuration
      fromCache.optimizationLevel = .disabled
      do {
        return try create(
          modelPath: cached, environment: environment, configuration: fromCache, logger: logger)
      } catch {
        logger.warning("Ignoring the unreadable optimized model \(cached): \(error)")
        entry.discard()
      }
    }
    var writing = configuration
    writing.optimizedModelOutputPath = entry.temporaryPath
    let created = try create(
      modelPath: modelPath, environment: environment, configuration: writing, logger: logger)
    entry.commit(logger: logger)
    return created
  }

  /// A created ORT session and what it runs with.
  struct Created {
    var pointer: OpaquePointer
    var providers: [String]
    var usesCUDAGraph: Bool
  }

  /// Creates the ORT session. CUDA graphs that ORT refuses for this model (operators placed
  /// on the CPU, Memcpy nodes) are dropped with a warning; when a provider was added but the
  /// session cannot start with it (missing cuDNN, say) and providers are not required,
  /// retries on the CPU alone.
  private static func create(
    modelPath: String, environment: ORTEnvironment, configuration: SessionConfiguration,
    logger: Logger
  ) throws -> Created {
    let library = environment.library
    let options = try SessionOptions(configuration: configuration, library: library, logger: logger)
    var session: OpaquePointer?
    do {
      try library.check(library.createSession(environment.pointer, modelPath, options.pointer, &session))
      let graphs =
        configuration.usesCUDAGraph
        && options.activeProviders.first == ExecutionProvider.cuda(CUDAOptions()).ortName
      return Created(pointer: session!, providers: options.activeProviders, usesCUDAGraph: graphs)
    } catch let ORTError.runtime(_, message) {
      if let withoutGraphs = configuration.withoutCUDAGraph {
        logger.warning(
          "CUDA graphs not used for \(modelPath): ONNX Runtime refused them (\(message)); running without")
        return try create(
          modelPath: modelPath, environment: environment, configuration: withoutGraphs, logger: logger)
      }
      let usesAccelerator = options.activeProviders.count > 1
      if usesAccelerator && !configuration.requireProviders {
        logger.warning("\(options.activeProviders[0]) failed to start, falling back to the CPU: \(message)")
        var cpuOnly = configuration
        cpuOnly.providers = []
        return try create(
          modelPath: modelPath, environment: environment, configuration: cpuOnly, logger: logger)
      }
      throw ORTError.modelLoad(path: modelPath, message: message)
    }
  }

  /// Runs the model on named inputs and returns the requested outputs (all by default).
  public func run(_ feeds: [String: Tensor], outputNames: [String]? = nil) throws -> [String: Tensor] {
    let ordered = try orderedInputs(feeds)
    let names = try resolveOutputNames(outputNames)
    let values = try ordered.map { try makeValue(for: $0.1) }
    defer { values.forEach { library.releaseValue($0) } }
    var results = [OpaquePointer?](repeating: nil, count: names.count)
    try withCStringArray(ordered.map(\.0)) { inputNames in
      try withCStringArray(names) { outputCNames in
        try values.map { Optional($0) }.withUnsafeBufferPointer { inputValues in
          try library.check(
            library.run(
              pointer, nil, inputNames, inputValues.baseAddress, values.count, outputCNames,
              names.count, &results))
        }
      }
    }
    return try wrapOutputs(names: names, values: results)
  }

  /// Runs through an `OrtIoBinding`: inputs are bound once, outputs are bound to CPU
  /// memory, so on a GPU each input crosses to the device once and each output comes back
  /// once, with no intermediate copies by ORT's generic Run path.
  public func runWithBinding(_ feeds: [String: Tensor], outputNames: [String]? = nil) throws
    -> [String: Tensor]
  {
    let ordered = try orderedInputs(feeds)
    let names = try resolveOutputNames(outputNames)
    let binding = try IOBinding(session: self)
    let values = try ordered.map { try makeValue(for: $0.1) }
    defer { values.forEach { library.releaseValue($0) } }
    for ((name, _), value) in zip(ordered, values) {
      try binding.bindInput(name: name, value: value)
    }
    for name in names {
      try binding.bindOutput(name: name, device: cpuMemoryInfo)
    }
    try binding.run()
    return try wrapOutputs(names: names, values: binding.outputValues())
  }

  /// Inputs in the model's order, after checking that each is present and fits.
  private func orderedInputs(_ feeds: [String: Tensor]) throws -> [(String, Tensor)] {
    if let unknown = feeds.keys.sorted().first(where: { key in !inputs.contains { $0.name == key } }) {
      throw ORTError.invalidInput(
        "model \(modelPath) has no input '\(unknown)' (inputs: \(inputs.map(\.name).joined(separator: ", ")))"
      )
    }
    return try inputs.map { info in
      guard let tensor = feeds[info.name] else {
        throw ORTError.invalidInput("missing input '\(info.name)' (\(info))")
      }
      try info.validate(tensor)
      return (info.name, tensor)
    }
  }

  private func resolveOutputNames(_ requested: [String]?) throws -> [String] {
    guard let requested else { return outputs.map(\.name) }
    for name in requested where !outputs.contains(where: { $0.name == name }) {
      throw ORTError.invalidInput("model \(modelPath) has no output '\(name)'")
    }
    return requested
  }

  /// An `OrtValue` viewing the tensor's buffer (no copy); released by the caller.
  private func makeValue(for tensor: Tensor) throws -> OpaquePointer {
    var value: OpaquePointer?
    let shape = tensor.shape.map { Int64($0) }
    try shape.withUnsafeBufferPointer { dims in
      try library.check(
        library.createTensorWithDataAsOrtValue(
          cpuMemoryInfo, tensor.buffer.pointer, tensor.buffer.byteCount, dims.baseAddress,
          dims.count, tensor.elementType.rawValue, &value))
    }
    return value!
  }

  /// Wraps ORT-allocated output values as tensors without copying their data.
  private func wrapOutputs(names: [String], values: [OpaquePointer?]) throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    var remaining = values[...]
    defer { remaining.forEach { library.releaseValue($0) } }
    for name in names {
      guard let value = remaining.popFirst() ?? nil else {
        throw ORTError.runtime(code: .fail, message: "ONNX Runtime returned no value for '\(name)'")
      }
      result[name] = try OutputValue(library: library, value: value).tensor()
    }
    return result
  }
}

/// `OrtAllocatorType`.
enum AllocatorType: Int32 {
  case device = 0
  case arena = 1
}

/// `OrtMemType`.
enum MemoryType: Int32 {
  case cpuInput = -2
  case cpuOutput = -1
  case `default` = 0
}
