import Foundation
import ONNXRuntime
import Testing

/// `.npy` headers from a hostile or damaged file: the shape is input, so its size must not
/// overflow or allocate before it is checked against the bytes present.
@Suite struct NumpyFileBadInputTests {
  /// A version 1.0 file with `header` (padded as NumPy pads it) and `payload` data bytes.
  static func npy(_ header: String, payload: Int = 0) -> Data {
    var text = header
    let unpadded = 10 + text.utf8.count + 1
    text += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    data.append(contentsOf: [UInt8(text.utf8.count & 0xff), UInt8(text.utf8.count >> 8)])
    data.append(contentsOf: Array(text.utf8))
    data.append(Data(count: payload))
    return data
  }

  @Test func readsAValidFile() throws {
    let tensor = try NumpyFile.read(
      data: Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", payload: 24))
    #expect(tensor.shape == [2, 3])
  }

  /// The product of these dimensions overflows Int: reading it used to trap in the allocation.
  @Test func refusesAShapeWhoseSizeOverflows() {
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"
    #expect(throws: NumpyFile.FormatError.self) { try NumpyFile.read(data: Self.npy(header, payload: 16)) }
  }

  /// A huge but representable size is refused from the header, without allocating it.
  @Test func refusesAShapeLargerThanTheData() {
    let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    #expect(throws: NumpyFile.FormatError.self) { try NumpyFile.read(data: Self.npy(header, payload: 8)) }
  }

  @Test func refusesANegativeDimension() {
    let header = "{'descr': '|u1', 'fortran_order': False, 'shape': (-2, -3), }"
    #expect(throws: NumpyFile.FormatError.self) { try NumpyFile.read(data: Self.npy(header, payload: 6)) }
  }
}
