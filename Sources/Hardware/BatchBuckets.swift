/// Fixed batch sizes for CUDA graphs: a captured graph replays one input shape only, so with
/// CUDA graphs on, each model run is padded up to the next bucket and the padding rows'
/// outputs are dropped. A handful of buckets keeps the number of captured graphs (and their
/// memory) small while wasting at most a bucket's gap of compute.
public struct BatchBuckets: Sendable, Equatable {
  /// Ascending batch sizes; the largest is the batcher's `maxBatch`.
  public let sizes: [Int]

  /// The standard buckets (1, 8, 32, 128) below `maxBatch`, then `maxBatch` itself, so that a
  /// full run is never padded past the limit the batcher enforces.
  public static let standard = [1, 8, 32, 128]

  public init(maxBatch: Int, candidates: [Int] = BatchBuckets.standard) {
    let limit = max(1, maxBatch)
    sizes = Array(Set(candidates.filter { $0 > 0 && $0 < limit })).sorted() + [limit]
  }

  /// The batch size a run of `count` inputs is padded to: the smallest bucket that holds it
  /// (`count` itself when it is over every bucket, which the batcher's limit prevents).
  public func paddedSize(for count: Int) -> Int {
    sizes.first { $0 >= count } ?? count
  }
}
