/// An `OrtValue` that ORT allocated for a model output, turned into a `Tensor`.
struct OutputValue {
  let library: ORTLibrary
  /// Owned: released here on failure, or by the tensor's buffer once wrapped.
  let value: OpaquePointer

  func tensor() throws -> Tensor {
    do {
      var info: OpaquePointer?
      try library.check(library.getTensorTypeAndShape(value, &info))
      defer { library.releaseTensorTypeAndShapeInfo(info) }
      let (elementType, shape, _) = try library.typeAndShape(info!)
      guard let elementSize = elementType.byteSize else {
        throw ORTError.invalidInput("output of type \(elementType) is not supported")
      }
      var data: UnsafeMutableRawPointer?
      try library.check(library.getTensorMutableData(value, &data))
      let byteCount = shape.reduce(1, *) * elementSize
      let library = self.library
      let address = UInt(bitPattern: value)
      let buffer = TensorBuffer(
        borrowing: data ?? UnsafeMutableRawPointer(bitPattern: 64)!, byteCount: byteCount
      ) { _ in
        library.releaseValue(OpaquePointer(bitPattern: address))
      }
      return Tensor(elementType: elementType, shape: shape, buffer: buffer)
    } catch {
      library.releaseValue(value)
      throw error
    }
  }
}
