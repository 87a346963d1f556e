#if canImport(Glibc)
  import Glibc
#endif

/// glibc malloc settings for a long-running server holding large model weights.
///
/// By default glibc keeps up to 8 arenas per core and returns freed memory to the system
/// only above a high, self-raising threshold, so the hundreds of megabytes ONNX Runtime frees
/// after building its sessions side by side (the parsed model files) stay resident. Two
/// arenas, and a trim once the models are loaded, give the server about 200 MB less resident
/// memory on ViT-B/32 (docs/benchmarks.md). A fixed low trim threshold saved a little more
/// but cost throughput (memory handed back and faulted in again on every large request).
enum MemoryTuning {
  // From glibc's malloc.h, which Swift's Glibc module does not include: the functions are
  // looked up at run time and the option numbers are glibc's stable ABI.
  private static let arenaMaxOption: Int32 = -8  // M_ARENA_MAX

  static func applyForServer() {
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    guard let mallopt = function("mallopt", as: Mallopt.self) else { return }
    _ = mallopt(arenaMaxOption, 2)
  }

  /// Hands freed heap memory back to the system (after the models are loaded).
  static func releaseFreedMemory() {
    typealias MallocTrim = @convention(c) (Int) -> Int32
    _ = function("malloc_trim", as: MallocTrim.self)?(0)
  }

  private static func function<T>(_ name: String, as type: T.Type) -> T? {
    #if canImport(Glibc)
      guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
      return unsafeBitCast(symbol, to: type)
    #else
      return nil
    #endif
  }
}
