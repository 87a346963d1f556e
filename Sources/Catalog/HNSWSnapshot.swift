import Foundation

/// The label table stored beside an HNSW snapshot: which item id each graph label holds, and
/// the catalog write sequence the snapshot reflects (items written later are caught up from
/// SQLite on open).
///
/// Format: "GLHNSW1\n", sequence (UInt64 LE), label count (UInt64 LE), then per label a
/// UInt32 LE byte length (0 = stale) and the id's UTF-8 bytes.
package enum HNSWSnapshot {
  static let magic = Data("GLHNSW1\n".utf8)

  static func writeLabels(_ labels: [String?], sequence: UInt64, graphCount: Int, to path: String) throws {
    guard labels.count == graphCount else {
      throw CatalogError.storage("HNSW snapshot: \(labels.count) labels for \(graphCount) vectors")
    }
    var data = magic
    append(sequence, to: &data)
    append(UInt64(labels.count), to: &data)
    for label in labels {
      let bytes = Data((label ?? "").utf8)
      append(UInt32(bytes.count), to: &data)
      data.append(bytes)
    }
    try data.write(to: URL(fileURLWithPath: path))
  }

  static func readLabels(from path: String) throws -> (labels: [String?], sequence: UInt64) {
    try readLabels(data: Data(contentsOf: URL(fileURLWithPath: path)), source: path)
  }

  /// Parses a label table's bytes; `source` names it in errors. The label count comes from the
  /// file, so it is checked against the bytes left (each label takes at least 4) before any
  /// memory is reserved for it.
  package static func readLabels(data: Data, source: String) throws -> (labels: [String?], sequence: UInt64) {
    var reader = ByteReader(data: data)
    guard reader.take(magic.count) == magic else {
      throw CatalogError.storage("\(source): not an HNSW label table")
    }
    let sequence = try reader.integer(UInt64.self)
    let count = try reader.integer(UInt64.self)
    guard count <= UInt64(reader.remaining / MemoryLayout<UInt32>.size) else {
      throw CatalogError.storage("\(source): \(count) labels cannot fit in \(reader.remaining) bytes")
    }
    var labels: [String?] = []
    labels.reserveCapacity(Int(count))
    for _ in 0..<count {
      let length = Int(try reader.integer(UInt32.self))
      guard let bytes = reader.take(length) else { throw CatalogError.storage("\(source): truncated") }
      labels.append(length == 0 ? nil : String(decoding: bytes, as: UTF8.self))
    }
    return (labels, sequence)
  }

  private static func append<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
    withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
  }

  private struct ByteReader {
    let data: Data
    var offset = 0

    var remaining: Int { data.count - offset }

    mutating func take(_ count: Int) -> Data? {
      guard count >= 0, offset + count <= data.count else { return nil }
      defer { offset += count }
      return data.subdata(in: data.startIndex + offset..<data.startIndex + offset + count)
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
      guard let bytes = take(MemoryLayout<T>.size) else {
        throw CatalogError.storage("HNSW label table truncated")
      }
      return T(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) })
    }
  }
}
