/// Reads a session's inputs, outputs and metadata through the C API.
struct SessionIntrospector {
  enum Kind { case input, output }

  let library: ORTLibrary
  let session: OpaquePointer

  func tensorInfos(kind: Kind) throws -> [TensorInfo] {
    var count = 0
    try library.check(
      kind == .input
        ? library.sessionGetInputCount(session, &count)
        : library.sessionGetOutputCount(session, &count))
    return try (0..<count).map { try tensorInfo(kind: kind, index: $0) }
  }

  private func tensorInfo(kind: Kind, index: Int) throws -> TensorInfo {
    let allocator = try library.defaultAllocator()
    var rawName: UnsafeMutablePointer<CChar>?
    try library.check(
      kind == .input
        ? library.sessionGetInputName(session, index, allocator, &rawName)
        : library.sessionGetOutputName(session, index, allocator, &rawName))
    let name = library.takeString(rawName, allocator: allocator)
    var typeInfo: OpaquePointer?
    try library.check(
      kind == .input
        ? library.sessionGetInputTypeInfo(session, index, &typeInfo)
        : library.sessionGetOutputTypeInfo(session, index, &typeInfo))
    defer { library.releaseTypeInfo(typeInfo) }
    var tensorInfo: OpaquePointer?
    try library.check(library.castTypeInfoToTensorInfo(typeInfo, &tensorInfo))
    guard let tensorInfo else {
      // Sequences and maps have no tensor info; Glimpse's models never use them.
      return TensorInfo(name: name, elementType: .undefined, shape: [], symbolicShape: [])
    }
    let (elementType, shape, symbols) = try library.typeAndShape(tensorInfo)
    return TensorInfo(name: name, elementType: elementType, shape: shape, symbolicShape: symbols)
  }

  func metadata() throws -> ModelMetadata {
    let allocator = try library.defaultAllocator()
    var handle: OpaquePointer?
    try library.check(library.sessionGetModelMetadata(session, &handle))
    defer { library.releaseModelMetadata(handle) }
    func string(
      _ getter: (OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?)
        -> OpaquePointer?
    ) throws -> String {
      var value: UnsafeMutablePointer<CChar>?
      try library.check(getter(handle, allocator, &value))
      return library.takeString(value, allocator: allocator)
    }
    var version: Int64 = 0
    try library.check(library.modelMetadataGetVersion(handle, &version))
    return ModelMetadata(
      producerName: try string(library.modelMetadataGetProducerName),
      graphName: try string(library.modelMetadataGetGraphName),
      description: try string(library.modelMetadataGetDescription),
      version: version,
      custom: try customMetadata(handle, allocator: allocator))
  }

  private func customMetadata(_ handle: OpaquePointer?, allocator: OpaquePointer) throws
    -> [String: String]
  {
    var keys: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    var keyCount: Int64 = 0
    try library.check(
      library.modelMetadataGetCustomMetadataMapKeys(handle, allocator, &keys, &keyCount))
    guard let keys, keyCount > 0 else { return [:] }
    defer { library.allocatorFree(allocator, keys) }
    var result: [String: String] = [:]
    for index in 0..<Int(keyCount) {
      let key = library.takeString(keys[index], allocator: allocator)
      var value: UnsafeMutablePointer<CChar>?
      try library.check(library.modelMetadataLookupCustomMetadataMap(handle, allocator, key, &value))
      result[key] = library.takeString(value, allocator: allocator)
    }
    return result
  }
}

extension ORTLibrary {
  /// ORT's default CPU allocator; owned by ORT, never released.
  func defaultAllocator() throws -> OpaquePointer {
    var allocator: OpaquePointer?
    try check(getAllocatorWithDefaultOptions(&allocator))
    return allocator!
  }

  /// Copies a string ORT allocated with `allocator`, then frees ORT's copy.
  func takeString(_ pointer: UnsafeMutablePointer<CChar>?, allocator: OpaquePointer) -> String {
    guard let pointer else { return "" }
    defer { allocatorFree(allocator, pointer) }
    return String(cString: pointer)
  }

  /// Element type, dimensions and symbolic dimension names of an `OrtTensorTypeAndShapeInfo`.
  func typeAndShape(_ info: OpaquePointer) throws -> (ElementType, [Int], [String]) {
    var rawType: Int32 = 0
    try check(getTensorElementType(info, &rawType))
    var rank = 0
    try check(getDimensionsCount(info, &rank))
    var dims = [Int64](repeating: 0, count: rank)
    try check(getDimensions(info, &dims, rank))
    var symbols = [UnsafePointer<CChar>?](repeating: nil, count: rank)
    try check(getSymbolicDimensions(info, &symbols, rank))
    return (
      ElementType(rawValue: rawType) ?? .undefined,
      dims.map { Int($0) },
      symbols.map { $0.map { String(cString: $0) } ?? "" }
    )
  }
}
