import Foundation

/// Reads and writes tensors as NumPy `.npy` files (format 1.0/2.0, little-endian, C order),
/// so model inputs can be inspected in Python and golden outputs made there can be read.
public enum NumpyFile {
  public struct FormatError: Error, CustomStringConvertible {
    public let description: String
  }

  private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

  private static let descriptors: [(String, ElementType)] = [
    ("<f4", .float32), ("<f2", .float16), ("<i8", .int64), ("<f8", .double),
    ("<i4", .int32), ("|u1", .uint8), ("|i1", .int8), ("|b1", .bool),
  ]

  public static func write(_ tensor: Tensor, to url: URL) throws {
    guard let descr = descriptors.first(where: { $0.1 == tensor.elementType })?.0 else {
      throw FormatError(description: "cannot write \(tensor.elementType) tensors as .npy")
    }
    let dims = tensor.shape.map(String.init).joined(separator: ", ")
    let shape = tensor.shape.count == 1 ? "(\(dims),)" : "(\(dims))"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
    // The data must start at a multiple of 64 bytes: pad the header with spaces + newline.
    let unpadded = magic.count + 2 + 2 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var data = Data(magic + [1, 0])
    let length = UInt16(header.utf8.count)
    data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
    data.append(contentsOf: Array(header.utf8))
    data.append(Data(bytes: tensor.buffer.pointer, count: tensor.buffer.byteCount))
    try data.write(to: url, options: .atomic)
  }

  public static func read(_ url: URL) throws -> Tensor {
    try read(data: Data(contentsOf: url), source: url.path)
  }

  /// Parses the bytes of a `.npy` file; `source` names it in errors. The shape comes from the
  /// file, so the data size is computed with checked arithmetic and compared with the bytes
  /// present before any tensor memory is allocated.
  public static func read(data: Data, source: String = "the .npy data") throws -> Tensor {
    let bytes = [UInt8](data)
    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
      throw FormatError(description: "\(source) is not a .npy file")
    }
    let headerLength: Int
    let headerStart: Int
    if bytes[6] == 1 {
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    } else {
      guard bytes.count >= 12 else { throw FormatError(description: "\(source): truncated header") }
      headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
      headerStart = 12
    }
    guard bytes.count >= headerStart + headerLength else {
      throw FormatError(description: "\(source): truncated header")
    }
    let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
    let (type, shape) = try parseHeader(header, path: source)
    let payload = bytes.count - headerStart - headerLength
    guard let expected = byteCount(of: type, shape: shape), payload == expected else {
      throw FormatError(description: "\(source): \(payload) data bytes for shape \(shape) of \(type)")
    }
    let tensor = try Tensor(zeros: type, shape: shape)
    bytes.withUnsafeBytes { raw in
      tensor.buffer.pointer.copyMemory(
        from: raw.baseAddress! + headerStart + headerLength, byteCount: payload)
    }
    return tensor
  }

  /// The data size of `shape`, nil when a dimension is negative or the product overflows.
  static func byteCount(of type: ElementType, shape: [Int]) -> Int? {
    guard let elementSize = type.byteSize else { return nil }
    var total = elementSize
    for dimension in shape {
      guard dimension >= 0 else { return nil }
      let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
      guard !overflow else { return nil }
      total = product
    }
    return total
  }

  /// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
  private static func parseHeader(_ header: String, path: String) throws -> (ElementType, [Int]) {
    guard let type = descriptors.first(where: { header.contains("'\($0.0)'") })?.1 else {
      throw FormatError(description: "\(path): unsupported dtype in header \(header)")
    }
    guard !header.contains("'fortran_order': True") else {
      throw FormatError(description: "\(path): Fortran-ordered arrays are not supported")
    }
    guard let open = header.range(of: "'shape': ("),
      let close = header[open.upperBound...].firstIndex(of: ")")
    else { throw FormatError(description: "\(path): no shape in header") }
    let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
      Int($0.trimmingCharacters(in: .whitespaces))
    }
    return (type, shape)
  }
}
