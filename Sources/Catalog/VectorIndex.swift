import Foundation

/// Exact nearest-neighbour search over normalized vectors held in one contiguous matrix.
///
/// The catalog's source of truth is the store; this index is derived from it and rebuilt on
/// open. A search scores every row that passes the filter with SIMD dot products, split
/// across cores, each keeping its own top k, then merges.
final class VectorIndex: @unchecked Sendable {
  let dimension: Int
  private var matrix: [Float] = []
  private(set) var ids: [String] = []
  private var rowOfID: [String: Int] = [:]
  private var tags: [[String]] = []
  private var metadata: [[String: JSONValue]] = []
  /// How many items carry each metadata field, to reject filters on unknown fields.
  private(set) var fieldCounts: [String: Int] = [:]
  private let lock = ReadWriteLock()

  init(dimension: Int) {
    self.dimension = dimension
  }

  var count: Int { lock.read { ids.count } }

  /// Inserts or replaces items (vectors must already be normalized and of the right size).
  func upsert(_ items: [CatalogItem]) {
    lock.write {
      for item in items {
        if let row = rowOfID[item.id] {
          forget(fields: metadata[row])
          matrix.replaceSubrange(row * dimension..<(row + 1) * dimension, with: item.embedding)
          tags[row] = item.tags
          metadata[row] = item.metadata
        } else {
          rowOfID[item.id] = ids.count
          ids.append(item.id)
          matrix.append(contentsOf: item.embedding)
          tags.append(item.tags)
          metadata.append(item.metadata)
        }
        for field in item.metadata.keys { fieldCounts[field, default: 0] += 1 }
      }
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
          row * dimension..<(row + 1) * dimension,
          with: matrix[last * dimension..<(last + 1) * dimension])
      }
      ids.removeLast()
      tags.removeLast()
      metadata.removeLast()
      matrix.removeLast(dimension)
    }
  }

  private func forget(fields: [String: JSONValue]) {
    for field in fields.keys {
      fieldCounts[field, default: 1] -= 1
      if fieldCounts[field] == 0 { fieldCounts[field] = nil }
    }
  }

  /// The `k` best rows for `query` among those `filter` accepts, best first.
  func search(_ query: [Float], k: Int, filter: SearchFilter) throws -> [(
    id: String, score: Float, metadata: [String: JSONValue]
  )] {
    try lock.read {
      for field in filter.metadata.keys where fieldCounts[field] == nil {
        throw CatalogError.unknownFilterField(field, known: fieldCounts.keys.sorted())
      }
      let rows = ids.count
      guard rows > 0, k > 0 else { return [] }
      let chunks = min(ProcessInfo.processInfo.activeProcessorCount, max(1, rows / 4096))
      let partial = PartialResults(count: chunks)
      matrix.withUnsafeBufferPointer { matrix in
        query.withUnsafeBufferPointer { query in
          // The buffers outlive the concurrent loop, which only reads them.
          let shared = SharedBuffers(matrix: matrix, query: query)
          DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let range = (rows * chunk / chunks)..<(rows * (chunk + 1) / chunks)
            partial.set(chunk, topK(shared.matrix, shared.query, range, k: k, filter: filter))
          }
        }
      }
      return partial.all.joined().sorted { $0.score > $1.score }.prefix(k).map {
        (ids[$0.row], $0.score, metadata[$0.row])
      }
    }
  }

  private func topK(
    _ matrix: UnsafeBufferPointer<Float>, _ query: UnsafeBufferPointer<Float>, _ rows: Range<Int>,
    k: Int, filter: SearchFilter
  ) -> [(row: Int, score: Float)] {
    var best = TopK(capacity: k)
    for row in rows {
      if !filter.isEmpty && !filter.accepts(tags: tags[row], metadata: metadata[row]) { continue }
      let score = dotProduct(matrix.baseAddress! + row * dimension, query.baseAddress!, dimension)
      best.offer(row: row, score: score)
    }
    return best.items
  }
}

/// Dot product with 16-wide SIMD accumulation.
@inline(__always)
func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
  // Two independent accumulators keep both FMA pipes busy.
  var sum0 = SIMD16<Float>()
  var sum1 = SIMD16<Float>()
  var index = 0
  let rawA = UnsafeRawPointer(a)
  let rawB = UnsafeRawPointer(b)
  while index + 32 <= count {
    sum0 +=
      rawA.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
      * rawB.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
    sum1 +=
      rawA.loadUnaligned(fromByteOffset: index * 4 + 64, as: SIMD16<Float>.self)
      * rawB.loadUnaligned(fromByteOffset: index * 4 + 64, as: SIMD16<Float>.self)
    index += 32
  }
  while index + 16 <= count {
    sum0 +=
      rawA.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
      * rawB.loadUnaligned(fromByteOffset: index * 4, as: SIMD16<Float>.self)
    index += 16
  }
  var total = (sum0 + sum1).sum()
  while index < count {
    total += a[index] * b[index]
    index += 1
  }
  return total
}

/// The `capacity` highest scores seen, kept in a min-heap.
struct TopK {
  let capacity: Int
  private(set) var heap: [(row: Int, score: Float)] = []

  init(capacity: Int) {
    self.capacity = capacity
    heap.reserveCapacity(capacity)
  }

  var items: [(row: Int, score: Float)] { heap }

  mutating func offer(row: Int, score: Float) {
    if heap.count < capacity {
      heap.append((row, score))
      siftUp(heap.count - 1)
    } else if score > heap[0].score {
      heap[0] = (row, score)
      siftDown(0)
    }
  }

  private mutating func siftUp(_ start: Int) {
    var child = start
    while child > 0 {
      let parent = (child - 1) / 2
      guard heap[child].score < heap[parent].score else { return }
      heap.swapAt(child, parent)
      child = parent
    }
  }

  private mutating func siftDown(_ start: Int) {
    var parent = start
    while true {
      let left = 2 * parent + 1
      let right = left + 1
      var smallest = parent
      if left < heap.count && heap[left].score < heap[smallest].score { smallest = left }
      if right < heap.count && heap[right].score < heap[smallest].score { smallest = right }
      if smallest == parent { return }
      heap.swapAt(parent, smallest)
      parent = smallest
    }
  }
}

/// Many readers or one writer (pthread read-write lock).
final class ReadWriteLock: @unchecked Sendable {
  private var lock = pthread_rwlock_t()

  init() { pthread_rwlock_init(&lock, nil) }
  deinit { pthread_rwlock_destroy(&lock) }

  func read<T>(_ body: () throws -> T) rethrows -> T {
    pthread_rwlock_rdlock(&lock)
    defer { pthread_rwlock_unlock(&lock) }
    return try body()
  }

  func write<T>(_ body: () throws -> T) rethrows -> T {
    pthread_rwlock_wrlock(&lock)
    defer { pthread_rwlock_unlock(&lock) }
    return try body()
  }
}

/// Read-only views handed to the workers of one search.
private struct SharedBuffers: @unchecked Sendable {
  let matrix: UnsafeBufferPointer<Float>
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
