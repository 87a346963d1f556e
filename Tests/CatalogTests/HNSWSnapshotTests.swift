import Foundation
import Testing

@testable import Catalog

/// The HNSW label table read back from bytes, including damaged ones: the label count comes from
/// the file and must not reserve memory before it is checked against the bytes present.
@Suite struct HNSWSnapshotTests {
  static func table(sequence: UInt64, count: UInt64, labels: [String?]) -> Data {
    var data = HNSWSnapshot.magic
    for value in [sequence, count] { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    for label in labels {
      let bytes = Data((label ?? "").utf8)
      withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { data.append(contentsOf: $0) }
      data.append(bytes)
    }
    return data
  }

  @Test func readsWhatWasWritten() throws {
    let path = SQLiteCatalogTests.temporaryPath() + ".labels"
    try HNSWSnapshot.writeLabels(["a", nil, "東京/b.jpg"], sequence: 9, graphCount: 3, to: path)
    let (labels, sequence) = try HNSWSnapshot.readLabels(from: path)
    #expect(labels == ["a", nil, "東京/b.jpg"])
    #expect(sequence == 9)
  }

  /// A count of 2^64 − 1 used to trap converting to Int; 2^62 to reserve exabytes.
  @Test(arguments: [UInt64.max, UInt64(1) << 62, 3])
  func refusesACountTheDataCannotHold(_ count: UInt64) {
    let data = Self.table(sequence: 1, count: count, labels: ["a", "b"])
    #expect(throws: CatalogError.self) { try HNSWSnapshot.readLabels(data: data, source: "test") }
  }
}
