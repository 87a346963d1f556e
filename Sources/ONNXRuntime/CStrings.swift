import Foundation

/// Calls `body` with a C array of C strings (`const char* const*`) that lives for the call.
func withCStringArray<R>(
  _ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> R
) rethrows -> R {
  let duplicated: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
  defer { duplicated.forEach { free($0) } }
  let constant = duplicated.map { UnsafePointer($0) }
  return try constant.withUnsafeBufferPointer { try body($0.baseAddress!) }
}
