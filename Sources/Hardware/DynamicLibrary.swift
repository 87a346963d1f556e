import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A shared library opened at run time (NVML, nvJPEG, TensorRT's libnvinfer): machines
/// without it run Glimpse too, on the fallback the caller names.
public final class DynamicLibrary: @unchecked Sendable {
  /// The name that opened, e.g. `libnvjpeg.so.13`.
  public let name: String
  let handle: UnsafeMutableRawPointer

  private init(name: String, handle: UnsafeMutableRawPointer) {
    self.name = name
    self.handle = handle
  }

  /// The first of `names` the dynamic loader finds (on `LD_LIBRARY_PATH` and the system's
  /// paths), or why none opened: the loader's message for the first name.
  public static func open(_ names: [String]) -> Result<DynamicLibrary, LibraryUnavailable> {
    var firstError: String?
    for name in names {
      if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) {
        return .success(DynamicLibrary(name: name, handle: handle))
      }
      if firstError == nil { firstError = dlerror().map { String(cString: $0) } }
    }
    return .failure(
      LibraryUnavailable(
        library: names.joined(separator: " or "), reason: firstError ?? "not found"))
  }

  /// The C function `symbol` typed as `F` (a `@convention(c)` function type), if exported.
  public func function<F>(_ symbol: String, as type: F.Type) -> F? {
    dlsym(handle, symbol).map { unsafeBitCast($0, to: F.self) }
  }
}

/// Why a run-time library cannot be used.
public struct LibraryUnavailable: Error, Sendable, Equatable, CustomStringConvertible {
  public let library: String
  public let reason: String

  public init(library: String, reason: String) {
    self.library = library
    self.reason = reason
  }

  public var description: String { "\(library) cannot be loaded (\(reason))" }
}
