import Foundation
import FuzzTargets

// The libFuzzer executable. SwiftPM links every executable with its own `main` (the module's
// top-level code), which shadows libFuzzer's, so this code starts libFuzzer's driver itself
// through LLVMFuzzerRunDriver; the flags and corpus folders are libFuzzer's usual arguments.

/// libFuzzer's driver (compiler-rt's FuzzerDriver.cpp), linked by `-sanitize=fuzzer`.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
  _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The target this process fuzzes, from `GLIMPSE_FUZZ_TARGET` (scripts/fuzz sets it).
let target: FuzzTarget = {
  let name = ProcessInfo.processInfo.environment["GLIMPSE_FUZZ_TARGET"] ?? ""
  guard let target = FuzzTarget(rawValue: name) else {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    fatalError("GLIMPSE_FUZZ_TARGET must be one of: \(names) (got '\(name)')")
  }
  return target
}()

/// One input per call, as libFuzzer's LLVMFuzzerTestOneInput.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  target.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
  return 0
}

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runDriver(&argc, &argv, fuzzTestOneInput))
