extension SessionConfiguration {
  /// Whether a CUDA provider in the list is asked to capture CUDA graphs.
  public var usesCUDAGraph: Bool {
    providers.contains {
      if case .cuda(let options) = $0 { return options.enableCUDAGraph }
      return false
    }
  }

  /// The same configuration with CUDA graphs off, or nil when none were asked for: what a
  /// session retries with when ORT cannot capture graphs of a model.
  public var withoutCUDAGraph: SessionConfiguration? {
    guard usesCUDAGraph else { return nil }
    var plain = self
    plain.providers = providers.map {
      guard case .cuda(var options) = $0 else { return $0 }
      options.enableCUDAGraph = false
      return .cuda(options)
    }
    return plain
  }
}
