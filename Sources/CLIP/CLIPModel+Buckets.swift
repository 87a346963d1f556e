import Hardware
import ONNXRuntime

extension CLIPModel {
  /// Embeddings of prepared images in one run padded to `buckets` (CUDA graphs replay one
  /// batch size each): the padding rows repeat the last image, and their outputs are dropped.
  public func embed(preparedImages: [Tensor], buckets: BatchBuckets?) throws -> [[Float]] {
    guard let buckets, let last = preparedImages.last else {
      return try embed(preparedImages: preparedImages)
    }
    let padding = buckets.paddedSize(for: preparedImages.count) - preparedImages.count
    let rows = preparedImages + [Tensor](repeating: last, count: padding)
    return Array(try embed(preparedImages: rows).prefix(preparedImages.count))
  }
}
