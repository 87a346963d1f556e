/// An `OrtIoBinding`: inputs and outputs bound to memory before the run.
///
/// Used for accelerator runs so that ORT copies each input to the device once and each
/// output back once. The binding is single-use and released when it goes away.
final class IOBinding {
  let library: ORTLibrary
  let session: Session
  let pointer: OpaquePointer

  init(session: Session) throws {
    self.session = session
    self.library = session.library
    var binding: OpaquePointer?
    try library.check(library.createIoBinding(session.pointer, &binding))
    self.pointer = binding!
  }

  deinit { library.releaseIoBinding(pointer) }

  func bindInput(name: String, value: OpaquePointer) throws {
    try library.check(library.bindInput(pointer, name, value))
  }

  /// Lets ORT allocate the output on `device` (the CPU here) with the right shape.
  func bindOutput(name: String, device: OpaquePointer) throws {
    try library.check(library.bindOutputToDevice(pointer, name, device))
  }

  func run() throws {
    try library.check(library.runWithBinding(session.pointer, nil, pointer))
  }

  /// The output values, owned by the caller, in the order they were bound.
  func outputValues() throws -> [OpaquePointer?] {
    let allocator = try library.defaultAllocator()
    var values: UnsafeMutablePointer<OpaquePointer?>?
    var count = 0
    try library.check(library.getBoundOutputValues(pointer, allocator, &values, &count))
    guard let values else { return [] }
    defer { library.allocatorFree(allocator, values) }
    return Array(UnsafeBufferPointer(start: values, count: count))
  }
}
