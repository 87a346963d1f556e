import Foundation
import Hardware
import Imaging
import ONNXRuntime
import Testing

@testable import CLIP

/// Padding a batch to a CUDA graph bucket changes neither the embeddings nor their count.
@Suite struct BucketPaddingTests {
  @Test func paddedRunsGiveTheUnpaddedEmbeddings() throws {
    let model = try CLIPModelTests.model()
    let images = try PreprocessFidelityTests.imageNames.map {
      try PreprocessFidelityTests.png("images/\($0).png")
    }
    let prepared = try images.map(model.preparedImage)
    let plain = try model.embed(preparedImages: prepared)
    let padded = try model.embed(preparedImages: prepared, buckets: BatchBuckets(maxBatch: 32))
    #expect(padded.count == images.count)
    for (a, b) in zip(plain, padded) {
      #expect(dot(a, b) >= 0.99999)
    }
    #expect(throws: CLIPError.self) {
      try model.embed(preparedImages: [], buckets: BatchBuckets(maxBatch: 8))
    }
  }
}
