import CFaissBridge
import Foundation

/// FAISS's HNSW graph over inner products (cosine for the normalized vectors of a catalog).
/// Labels are insertion positions. Concurrent searches are safe; `add` must not run
/// alongside them (ApproximateIndex serializes it with a lock).
final class HNSWGraph: @unchecked Sendable {
  typealias Parameters = HNSWParameters

  private let handle: OpaquePointer
  let dimension: Int

  init(dimension: Int, parameters: Parameters) throws {
    var error: UnsafeMutablePointer<CChar>?
    guard
      let handle = glimpse_hnsw_create(
        Int32(dimension), Int32(parameters.neighbors), Int32(parameters.efConstruction), &error)
    else { throw Self.failure(error, "cannot create the HNSW index") }
    self.handle = handle
    self.dimension = dimension
  }

  /// Reads a graph written by `write(to:)`.
  init(contentsOf path: String) throws {
    var error: UnsafeMutablePointer<CChar>?
    guard let handle = glimpse_hnsw_read(path, &error) else {
      throw Self.failure(error, "cannot read the HNSW snapshot \(path)")
    }
    self.handle = handle
    dimension = Int(glimpse_hnsw_dimension(handle))
  }

  deinit { glimpse_hnsw_free(handle) }

  var count: Int { Int(glimpse_hnsw_count(handle)) }

  /// The search beam (FAISS uses at least k). Set before searches start: not thread-safe.
  func setEfSearch(_ efSearch: Int) { glimpse_hnsw_set_ef_search(handle, Int32(efSearch)) }

  func add(_ vectors: [Float]) throws {
    var error: UnsafeMutablePointer<CChar>?
    let status = vectors.withUnsafeBufferPointer {
      glimpse_hnsw_add(handle, Int64(vectors.count / dimension), $0.baseAddress, &error)
    }
    if status != 0 { throw Self.failure(error, "HNSW add failed") }
  }

  /// The best `k` labels among those allowed (bit `label` of `allowed`), best first.
  func search(_ query: [Float], k: Int, efSearch: Int, allowed: [UInt8]) throws -> [(
    label: Int, score: Float
  )] {
    var scores = [Float](repeating: 0, count: k)
    var labels = [Int64](repeating: -1, count: k)
    var error: UnsafeMutablePointer<CChar>?
    let status = query.withUnsafeBufferPointer { query in
      allowed.withUnsafeBufferPointer { allowed in
        glimpse_hnsw_search(
          handle, query.baseAddress, Int64(k), Int32(max(efSearch, k)), allowed.baseAddress, allowed.count,
          &scores, &labels, &error)
      }
    }
    if status != 0 { throw Self.failure(error, "HNSW search failed") }
    return zip(labels, scores).filter { $0.0 >= 0 }.map { (Int($0.0), $0.1) }
  }

  func write(to path: String) throws {
    var error: UnsafeMutablePointer<CChar>?
    if glimpse_hnsw_write(handle, path, &error) != 0 {
      throw Self.failure(error, "cannot write the HNSW snapshot \(path)")
    }
  }

  private static func failure(_ error: UnsafeMutablePointer<CChar>?, _ context: String) -> CatalogError {
    defer { glimpse_faiss_free_error(error) }
    return .storage("\(context): \(error.map { String(cString: $0) } ?? "unknown error")")
  }
}

/// HNSW build and search settings.
public struct HNSWParameters: Sendable, Equatable {
  /// Neighbours per node (FAISS's M): more is better recall, more memory, slower builds.
  public var neighbors = 32
  public var efConstruction = 80
  /// Candidate list during search (FAISS uses at least k).
  public var efSearch = 96

  public init(neighbors: Int = 32, efConstruction: Int = 80, efSearch: Int = 96) {
    self.neighbors = neighbors
    self.efConstruction = efConstruction
    self.efSearch = efSearch
  }
}
