import ArgumentParser
import Catalog
import Foundation

/// `glimpse bench-search`: bulk insert and exact search speed of the embedded catalog on
/// clustered synthetic embeddings.
struct BenchSearch: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-search",
    abstract: "Measure catalog bulk insert and exact top-k search on clustered vectors.")

  @Option(help: "Items in the catalog.")
  var items = 100_000

  @Option(help: "Vector dimension.")
  var dimension = 512

  @Option(help: "Queries to time.")
  var queries = 100

  @Option(help: "Results per query.")
  var k = 10

  func run() async throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID()).sqlite").path
    defer {
      for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
    let store = try SQLiteCatalog(path: path, model: "bench", dimension: dimension)
    var generator = ClusteredVectors(dimension: dimension, clusters: 1000, seed: 42)
    let clock = ContinuousClock()
    let insert = try await clock.measure {
      for start in stride(from: 0, to: items, by: 5000) {
        let batch = (start..<min(start + 5000, items)).map {
          CatalogItem(id: "item-\($0)", embedding: generator.next())
        }
        try await store.upsert(batch)
      }
    }
    var durations: [Duration] = []
    for _ in 0..<queries {
      let query = generator.next()
      let duration = try await clock.measure {
        _ = try await store.search(vector: query, k: k, filter: SearchFilter())
      }
      durations.append(duration)
    }
    let summary = LatencySummary(durations)
    let seconds = Double(insert.components.seconds) + Double(insert.components.attoseconds) / 1e18
    print("items \(items), dimension \(dimension), clusters 1000 (σ = 0.5 per vector, normalized)")
    print(String(format: "bulk insert: %.0f vectors/s (%.1f s)", Double(items) / seconds, seconds))
    print(
      String(
        format: "exact top-%d: p50 %.2f ms, p95 %.2f ms over %d queries", k, summary.p50Milliseconds,
        summary.p95Milliseconds, queries))
  }
}

/// Embedding-like synthetic vectors: points scattered around random cluster centres (real
/// embeddings cluster by subject; uniform random vectors are all nearly orthogonal).
struct ClusteredVectors {
  let dimension: Int
  private var centres: [[Float]]
  private var state: UInt64

  init(dimension: Int, clusters: Int, seed: UInt64) {
    self.dimension = dimension
    state = seed
    centres = []
    for _ in 0..<clusters { centres.append(normalize((0..<dimension).map { _ in gaussian() })) }
  }

  mutating func next() -> [Float] {
    let centre = centres[Int(nextRandom() % UInt64(centres.count))]
    let spread = 0.5 / Float(dimension).squareRoot()
    return normalize(centre.map { $0 + spread * gaussian() })
  }

  private mutating func nextRandom() -> UInt64 {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return state >> 11
  }

  /// Box–Muller.
  private mutating func gaussian() -> Float {
    let u = max(Float(nextRandom() % 1_000_000) / 1_000_000, 1e-7)
    let v = Float(nextRandom() % 1_000_000) / 1_000_000
    return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
  }

  private func normalize(_ vector: [Float]) -> [Float] {
    let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return vector.map { $0 / norm }
  }
}
