import Foundation

/// `ONNXTensorElementDataType` values that Glimpse reads or writes.
public enum ElementType: Int32, Sendable, CustomStringConvertible {
  case undefined = 0
  case float32 = 1
  case uint8 = 2
  case int8 = 3
  case uint16 = 4
  case int16 = 5
  case int32 = 6
  case int64 = 7
  case string = 8
  case bool = 9
  case float16 = 10
  case double = 11
  case uint32 = 12
  case uint64 = 13
  case bfloat16 = 16

  /// Bytes per element, or nil for types without a fixed size (strings).
  public var byteSize: Int? {
    switch self {
    case .float32, .int32, .uint32: 4
    case .uint8, .int8, .bool: 1
    case .uint16, .int16, .float16, .bfloat16: 2
    case .int64, .uint64, .double: 8
    case .string, .undefined: nil
    }
  }

  public var description: String {
    switch self {
    case .undefined: "undefined"
    case .float32: "float32"
    case .uint8: "uint8"
    case .int8: "int8"
    case .uint16: "uint16"
    case .int16: "int16"
    case .int32: "int32"
    case .int64: "int64"
    case .string: "string"
    case .bool: "bool"
    case .float16: "float16"
    case .double: "float64"
    case .uint32: "uint32"
    case .uint64: "uint64"
    case .bfloat16: "bfloat16"
    }
  }
}

/// Memory holding a tensor's elements, with a stable address.
///
/// A class rather than an array so that the address handed to ONNX Runtime stays valid
/// for the whole run without nested `withUnsafe…` closures, and so that preprocessing can
/// write a batch straight into the buffer the model reads. Outputs produced by ORT are
/// wrapped without copying: the buffer then releases the `OrtValue` when it goes away.
/// `@unchecked Sendable`: the pointer, size and release function are constants; the bytes are written by one owner before a run and only read during it.
public final class TensorBuffer: @unchecked Sendable {
  public let pointer: UnsafeMutableRawPointer
  public let byteCount: Int
  private let release: @Sendable (UnsafeMutableRawPointer) -> Void

  /// Allocates zeroed, 64-byte aligned memory owned by this buffer.
  public init(byteCount: Int) {
    self.byteCount = byteCount
    self.pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
    self.pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
    self.release = { $0.deallocate() }
  }

  /// Wraps memory owned elsewhere; `release` runs once when the buffer is freed.
  init(
    borrowing pointer: UnsafeMutableRawPointer, byteCount: Int,
    release: @escaping @Sendable (UnsafeMutableRawPointer) -> Void
  ) {
    self.pointer = pointer
    self.byteCount = byteCount
    self.release = release
  }

  deinit { release(pointer) }
}

/// A dense tensor in CPU memory: element type, shape and a buffer.
///
/// `Tensor` is a handle: copies share the buffer. Write into a fresh tensor before handing
/// it to a session, then treat it as read-only.
public struct Tensor: Sendable {
  public let elementType: ElementType
  public let shape: [Int]
  public let buffer: TensorBuffer

  public var elementCount: Int { shape.reduce(1, *) }

  /// A zero-filled tensor.
  public init(zeros elementType: ElementType, shape: [Int]) throws {
    guard let size = elementType.byteSize else {
      throw ORTError.invalidInput("tensors of \(elementType) are not supported")
    }
    try Self.validate(shape: shape)
    self.init(
      elementType: elementType, shape: shape,
      buffer: TensorBuffer(byteCount: shape.reduce(1, *) * size))
  }

  init(elementType: ElementType, shape: [Int], buffer: TensorBuffer) {
    self.elementType = elementType
    self.shape = shape
    self.buffer = buffer
  }

  public init(float32 values: [Float], shape: [Int]) throws {
    try self.init(copying: values, as: .float32, shape: shape)
  }

  public init(float16 values: [Float16], shape: [Int]) throws {
    try self.init(copying: values, as: .float16, shape: shape)
  }

  public init(int64 values: [Int64], shape: [Int]) throws {
    try self.init(copying: values, as: .int64, shape: shape)
  }

  private init<T>(copying values: [T], as type: ElementType, shape: [Int]) throws {
    try self.init(zeros: type, shape: shape)
    guard values.count == elementCount else {
      throw ORTError.invalidInput(
        "\(values.count) values do not fill shape \(shape) (\(elementCount) elements)")
    }
    values.withUnsafeBytes { source in
      buffer.pointer.copyMemory(from: source.baseAddress!, byteCount: source.count)
    }
  }

  private static func validate(shape: [Int]) throws {
    if let bad = shape.first(where: { $0 < 0 }) {
      throw ORTError.invalidInput("negative dimension \(bad) in shape \(shape)")
    }
  }

  /// Typed, read-only view of the elements. The type must match `elementType`.
  public func withElements<T, R>(as type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R)
    rethrows -> R
  {
    precondition(MemoryLayout<T>.stride == elementType.byteSize, "element type mismatch")
    let typed = buffer.pointer.bindMemory(to: T.self, capacity: elementCount)
    return try body(UnsafeBufferPointer(start: typed, count: elementCount))
  }

  /// Typed, writable view of the elements, for filling a tensor in place.
  public func withMutableElements<T, R>(
    as type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R
  ) rethrows -> R {
    precondition(MemoryLayout<T>.stride == elementType.byteSize, "element type mismatch")
    let typed = buffer.pointer.bindMemory(to: T.self, capacity: elementCount)
    return try body(UnsafeMutableBufferPointer(start: typed, count: elementCount))
  }

  /// The elements as `Float`, converting from float16 or float64 where needed.
  public func floatValues() -> [Float] {
    switch elementType {
    case .float32: return withElements(as: Float.self) { Array($0) }
    case .float16: return withElements(as: Float16.self) { $0.map(Float.init) }
    case .double: return withElements(as: Double.self) { $0.map(Float.init) }
    case .int64: return withElements(as: Int64.self) { $0.map(Float.init) }
    default: preconditionFailure("floatValues() on a \(elementType) tensor")
    }
  }

  /// The elements as `Int64` (int64 tensors only).
  public func int64Values() -> [Int64] {
    precondition(elementType == .int64, "int64Values() on a \(elementType) tensor")
    return withElements(as: Int64.self) { Array($0) }
  }
}
