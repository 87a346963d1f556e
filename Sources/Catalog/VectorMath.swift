import Foundation

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

  /// Whether `offer` would keep this score (lets callers skip work for rows that cannot enter).
  @inline(__always) func wouldAccept(_ score: Float) -> Bool {
    heap.count < capacity || score > heap[0].score
  }

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
/// `@unchecked Sendable`: it is a lock (a `pthread_rwlock_t`, made for use from many threads).
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
