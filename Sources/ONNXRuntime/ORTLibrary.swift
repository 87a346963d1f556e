import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A loaded ONNX Runtime shared library and its `OrtApi` function table.
///
/// ONNX Runtime ships no Swift module and no header we can depend on, so the library is
/// opened with `dlopen` and its single exported entry point `OrtGetApiBase` hands us the
/// API table (see `APITable.swift` for the slots we call). One instance lives for the
/// whole process: the library is never closed, because ORT's global state does not
/// survive `dlclose`.
/// `@unchecked Sendable`: path, version and the API table are constants; the cache of loaded libraries is read and written under `lock`.
public final class ORTLibrary: @unchecked Sendable {
  /// The ORT release this binding is written and tested against (API table version 31).
  public static let supportedVersionPrefix = "1.31."
  static let apiVersion: UInt32 = 31

  /// The path the library was opened from.
  public let path: String
  /// ORT's own version string, e.g. "1.31.1".
  public let version: String
  /// The `OrtApi` table seen as an array of function pointers.
  let table: UnsafePointer<UnsafeRawPointer?>

  private init(path: String, version: String, table: UnsafePointer<UnsafeRawPointer?>) {
    self.path = path
    self.version = version
    self.table = table
  }

  nonisolated(unsafe) private static var loaded: [String: ORTLibrary] = [:]
  private static let lock = NSLock()

  /// Opens ONNX Runtime: from `explicitPath` if given, else `GLIMPSE_ORT_LIB`, else the
  /// project's `.deps/` folder, else the system loader path.
  public static func load(explicitPath: String? = nil) throws -> ORTLibrary {
    let candidates = LibraryLocator.candidates(explicitPath: explicitPath)
    lock.lock()
    defer { lock.unlock() }
    var tried: [String] = []
    for candidate in candidates {
      if let library = loaded[candidate.path] { return library }
      guard let handle = dlopen(candidate.path, RTLD_NOW | RTLD_LOCAL) else {
        let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
        tried.append("\(candidate.path) (\(candidate.origin): \(reason))")
        // A path the user named explicitly must not silently fall through to another.
        if candidate.isExplicit { throw ORTError.libraryNotFound(tried: tried) }
        continue
      }
      let library = try open(handle: handle, path: candidate.path)
      loaded[candidate.path] = library
      return library
    }
    throw ORTError.libraryNotFound(tried: tried)
  }

  /// Reads the version and API table from an opened library handle.
  private static func open(handle: UnsafeMutableRawPointer, path: String) throws -> ORTLibrary {
    guard let symbol = dlsym(handle, "OrtGetApiBase") else {
      throw ORTError.notONNXRuntime(path: path, reason: "it does not export OrtGetApiBase")
    }
    typealias GetApiBase = @convention(c) () -> UnsafeRawPointer?
    guard let base = unsafeBitCast(symbol, to: GetApiBase.self)() else {
      throw ORTError.notONNXRuntime(path: path, reason: "OrtGetApiBase returned nothing")
    }
    // `OrtApiBase` is two function pointers: GetApi(uint32_t) and GetVersionString().
    typealias GetApi = @convention(c) (UInt32) -> UnsafeRawPointer?
    typealias GetVersionString = @convention(c) () -> UnsafePointer<CChar>
    let getApi = unsafeBitCast(base.load(as: UnsafeRawPointer.self), to: GetApi.self)
    let getVersionString = unsafeBitCast(
      base.load(fromByteOffset: MemoryLayout<UnsafeRawPointer>.stride, as: UnsafeRawPointer.self),
      to: GetVersionString.self)
    let version = String(cString: getVersionString())
    try checkVersion(version, path: path)
    guard let api = getApi(apiVersion) else {
      throw ORTError.notONNXRuntime(
        path: path, reason: "it does not provide API version \(apiVersion)")
    }
    return ORTLibrary(
      path: path, version: version,
      table: api.assumingMemoryBound(to: UnsafeRawPointer?.self))
  }

  /// Refuses any release other than 1.31.x: the slots we call are checked against it.
  static func checkVersion(_ version: String, path: String) throws {
    guard version.hasPrefix(supportedVersionPrefix) else {
      throw ORTError.unsupportedVersion(
        path: path, found: version, expected: "\(supportedVersionPrefix)x")
    }
  }
}
