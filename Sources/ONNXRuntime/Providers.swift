extension ORTLibrary {
  /// Execution providers compiled into this ORT build, e.g. `["CUDAExecutionProvider",
  /// "CPUExecutionProvider"]` for the GPU wheel. Being listed does not mean the provider's
  /// own libraries (CUDA, cuDNN) load: that is only known when a session adds it.
  public func availableProviders() throws -> [String] {
    var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    var count: Int32 = 0
    try check(getAvailableProviders(&names, &count))
    guard let names else { return [] }
    defer { _ = releaseAvailableProviders(names, count) }
    return (0..<Int(count)).compactMap { names[$0].map { String(cString: $0) } }
  }

  /// ORT's build description (git commit, build options).
  public var buildInfo: String {
    getBuildInfoString().map { String(cString: $0) } ?? ""
  }
}
