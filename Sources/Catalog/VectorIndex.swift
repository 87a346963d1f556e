import CVectorKernels
import Foundation

/// Exact nearest-neighbour search over normalized vectors held in contiguous matrices.
///
/// The catalog's source of truth is the store; this index is derived from it on open. A
/// search is memory-bound, so its first pass reads a half-float copy of the vectors (half the
/// bytes), split across cores, keeping the best `4k + 16` candidates per core; the candidates
/// are then rescored in float32 and the best `k` returned. Half floats move a unit vector's
/// dot products by about 1e-3 at most, far less than the margin of the candidate list, so
/// the result is the float32 ranking (the tests compare with brute force).
/// `@unchecked Sendable`: every stored array is read under `lock`'s read side and changed under its write side.
final class VectorIndex: @unchecked Sendable {
  let dimension: Int
  private var matrix: [Float] = []
  private var halves: [UInt16] = []
  private(set) var ids: [String] = []
  private var rowOfID: [String: Int] = [:]
  private var tags: [[String]] = []
  private var metadata: [[String: JSONValue]] = []
  /// How many items carry each metadata field, to reject filters on unknown fields.
  private(set) var fieldCounts: [String: Int] = [:]
  private let lock = ReadWriteLock()

  typealias Match = (id: String, score: Float, metadata: [String: JSONValue])

  init(dimension: Int) {
    self.dimension = dimension
  }

  var count: Int { lock.read { ids.count } }

  /// Inserts or replaces items (vectors must already be normalized and of the right size).
  func upsert(_ items: [CatalogItem]) {
    let converted = items.map(halfFloats)
    lock.write {
      for (item, half) in zip(items, converted) {
        if let row = rowOfID[item.id] {
          forget(fields: metadata[row])
          matrix.replaceSubrange(row * dimension..<(row + 1) * dimension, with: item.embedding)
          halves.replaceSubrange(row * dimension..<(row + 1) * dimension, with: half)
          tags[row] = item.tags
          metadata[row] = item.metadata
        } else {
          rowOfID[item.id] = ids.count
          ids.append(item.id)
          matrix.append(contentsOf: item.embedding)
          halves.append(contentsOf: half)
          tags.append(item.tags)
          metadata.append(item.metadata)
        }
        for field in item.metadata.keys { fieldCounts[field, default: 0] += 1 }
      }
    }
  }

  private func halfFloats(_ item: CatalogItem) -> [UInt16] {
    [UInt16](unsafeUninitializedCapacity: dimension) { buffer, initialized in
      item.embedding.withUnsafeBufferPointer {
        glimpse_f32_to_f16($0.baseAddress, dimension, buffer.baseAddress)
      }
      initialized = dimension
    }
  }

  /// Removes an item by moving the last row into its place.
  func remove(id: String) {
    lock.write {
      guard let row = rowOfID.removeValue(forKey: id) else { return }
      forget(fields: metadata[row])
      let last = ids.count - 1
      if row != last {
        ids[row] = ids[last]
        rowOfID[ids[row]] = row
        tags[row] = tags[last]
        metadata[row] = metadata[last]
        matrix.replaceSubrange(
          row * dimension..<(row + 1) * dimension, with: matrix[last * dimension..<(last + 1) * dimension])
        halves.replaceSubrange(
          row * dimension..<(row + 1) * dimension, with: halves[last * dimension..<(last + 1) * dimension])
      }
      ids.removeLast()
      tags.removeLast()
      metadata.removeLast()
      matrix.removeLast(dimension)
      halves.removeLast(dimension)
    }
  }

  private func forget(fields: [String: JSONValue]) {
    for field in fields.keys {
      fieldCounts[field, default: 1] -= 1
      if fieldCounts[field] == 0 { fieldCounts[field] = nil }
    }
  }

  /// Refuses filters on metadata fields that no item carries (most likely a typo).
  func checkFilterFields(_ filter: SearchFilter) throws {
    try lock.read {
      for field in filter.metadata.keys where fieldCounts[field] == nil {
        throw CatalogError.unknownFilterField(field, known: fieldCounts.keys.sorted())
      }
    }
  }

  /// The `k` best rows for `query` among those `filter` accepts, best first.
  func search(_ query: [Float], k: Int, filter: SearchFilter) throws -> [Match] {
    try checkFilterFields(filter)
    return lock.read {
      let rows = ids.count
      guard rows > 0, k > 0 else { return [] }
      let candidates = 4 * k + 16
      let chunks = min(ProcessInfo.processInfo.activeProcessorCount, max(1, rows / 4096))
      let partial = PartialResults(count: chunks)
      halves.withUnsafeBufferPointer { halves in
        query.withUnsafeBufferPointer { query in
          // The buffers outlive the concurrent loop, which only reads them.
          let shared = SharedBuffers(halves: halves, query: query)
          DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let range = (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks)
            partial.set(chunk, firstPass(shared, range, keep: candidates, filter: filter))
          }
        }
      }
      return rescore(partial.all.joined().map(\.row), query: query, k: k)
    }
  }

  /// Scores `rows` of the half-float matrix in blocks, keeping the best `keep` that pass the filter.
  private func firstPass(_ shared: SharedBuffers, _ rows: Range<Int>, keep: Int, filter: SearchFilter) -> [(
    row: Int, score: Float
  )] {
    var best = TopK(capacity: keep)
    let blockSize = 256
    var scores = [Float](repeating: 0, count: blockSize)
    for blockStart in stride(from: rows.lowerBound, to: rows.upperBound, by: blockSize) {
      let blockRows = min(blockSize, rows.upperBound - blockStart)
      scores.withUnsafeMutableBufferPointer { scores in
        glimpse_dot_f16(
          shared.halves.baseAddress! + blockStart * dimension, blockRows, dimension,
          shared.query.baseAddress!,
          scores.baseAddress!)
      }
      for offset in 0..<blockRows {
        let row = blockStart + offset
        guard best.wouldAccept(scores[offset]) else { continue }
        if !filter.isEmpty && !filter.accepts(tags: tags[row], metadata: metadata[row]) { continue }
        best.offer(row: row, score: scores[offset])
      }
    }
    return best.items
  }

  /// Exact float32 scores of the candidate rows; the best `k`, best first. Called under the lock.
  private func rescore(_ rows: [Int], query: [Float], k: Int) -> [Match] {
    matrix.withUnsafeBufferPointer { matrix in
      query.withUnsafeBufferPointer { query in
        rows.map { row in
          (row: row, score: dotProduct(matrix.baseAddress! + row * dimension, query.baseAddress!, dimension))
        }
      }
    }
    .sorted { $0.score > $1.score }.prefix(k).map { (ids[$0.row], $0.score, metadata[$0.row]) }
  }

  /// Exact float32 search over the given ids only (the part of the catalog an approximate
  /// index has not taken in yet).
  func search(_ query: [Float], k: Int, filter: SearchFilter, among candidateIDs: some Sequence<String>)
    -> [Match]
  {
    lock.read {
      let rows = candidateIDs.compactMap { id -> Int? in
        guard let row = rowOfID[id] else { return nil }
        return filter.isEmpty || filter.accepts(tags: tags[row], metadata: metadata[row]) ? row : nil
      }
      return rescore(rows, query: query, k: k)
    }
  }

  /// The rows' ids, metadata and whether `filter` accepts them, for an approximate index's hits.
  func lookup(_ hits: [(id: String, score: Float)], filter: SearchFilter) -> [Match] {
    lock.read {
      hits.compactMap { hit in
        guard let row = rowOfID[hit.id] else { return nil }
        guard filter.isEmpty || filter.accepts(tags: tags[row], metadata: metadata[row]) else { return nil }
        return (hit.id, hit.score, metadata[row])
      }
    }
  }

  /// Copies of the vectors of `ids` that are present (for building an approximate index).
  func vectors(of ids: [String]) -> [(id: String, vector: [Float])] {
    lock.read {
      ids.compactMap { id in
        guard let row = rowOfID[id] else { return nil }
        return (id, Array(matrix[row * dimension..<(row + 1) * dimension]))
      }
    }
  }
}

/// Read-only views handed to the workers of one search.
private struct SharedBuffers: @unchecked Sendable {
  let halves: UnsafeBufferPointer<UInt16>
  let query: UnsafeBufferPointer<Float>
}

/// One slot per worker; each worker writes only its own slot (raw memory, so that no Swift
/// exclusivity check sees the concurrent writes to distinct slots as a conflict).
private final class PartialResults: @unchecked Sendable {
  private let slots: UnsafeMutablePointer<[(row: Int, score: Float)]>
  private let count: Int

  init(count: Int) {
    self.count = count
    slots = .allocate(capacity: count)
    slots.initialize(repeating: [], count: count)
  }

  deinit {
    slots.deinitialize(count: count)
    slots.deallocate()
  }

  func set(_ index: Int, _ value: [(row: Int, score: Float)]) { slots[index] = value }

  var all: [[(row: Int, score: Float)]] { Array(UnsafeBufferPointer(start: slots, count: count)) }
}
