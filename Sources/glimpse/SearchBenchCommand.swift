import ArgumentParser
import Catalog
import Foundation

/// `glimpse bench-search`: bulk insert, exact search and (with `--hnsw`) HNSW recall and
/// latency of the embedded catalog on clustered synthetic embeddings.
struct BenchSearch: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-search",
    abstract: "Measure catalog bulk insert, exact top-k search and HNSW recall/latency on clustered vectors.")

  @Option(help: "Items in the catalog.")
  var items = 100_000

  @Option(help: "Vector dimension.")
  var dimension = 512

  @Option(help: "Queries to time.")
  var queries = 100

  @Option(help: "Results per query.")
  var k = 10

  @Flag(help: "Build the HNSW graph and measure its recall against the exact scan, and its latency.")
  var hnsw = false

  @Option(help: "HNSW neighbours per node (M).")
  var neighbors = 32

  @Option(help: "HNSW efConstruction.")
  var efConstruction = 80

  @Option(help: "HNSW efSearch.")
  var efSearch = 96

  @Option(help: "Also write the vectors and queries (raw float32) to this folder, for FAISS's own benchmark.")
  var dump: String?

  @Option(help: "Folder for the temporary catalog (default: the system's temporary folder).")
  var workDir: String?

  func run() async throws {
    let folder = workDir.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
    let path = folder.appendingPathComponent("bench-\(UUID()).sqlite").path
    defer {
      for suffix in ["", "-wal", "-shm", ".hnsw", ".hnsw.labels"] {
        try? FileManager.default.removeItem(atPath: path + suffix)
      }
    }
    let options = indexOptions
    let store = try SQLiteCatalog(path: path, model: "bench", dimension: dimension, options: options)
    var generator = ClusteredVectors(dimension: dimension, clusters: 1000, seed: 42)
    let dumpWriter = try dump.map { try VectorDump(folder: $0) }
    let insert = try await fill(store, generator: &generator, dump: dumpWriter)
    let queryVectors = (0..<queries).map { _ in generator.next() }
    try dumpWriter?.append(queryVectors, to: "queries.f32")
    print("items \(items), dimension \(dimension), clusters 1000 (σ = 0.5 per vector, normalized)")
    print(
      String(
        format: "bulk insert: %.0f vectors/s (%.1f s)", Double(items) / ProgressFormat.seconds(insert),
        ProgressFormat.seconds(insert))
    )
    let exact = try await timeQueries(queryVectors) {
      try await store.exactSearch(vector: $0, k: k, filter: SearchFilter())
    }
    print(
      String(
        format: "exact top-%d: p50 %.2f ms, p95 %.2f ms over %d queries", k, exact.latency.p50Milliseconds,
        exact.latency.p95Milliseconds, queries))
    guard hnsw else { return }
    try await measureHNSW(store, path: path, options: options, queries: queryVectors, truth: exact.results)
  }

  /// The index settings of the run: HNSW from the first item with `--hnsw`, no snapshots.
  private var indexOptions: IndexOptions {
    var options = IndexOptions()
    options.hnswThreshold = hnsw ? 1 : Int.max
    options.hnsw = HNSWParameters(neighbors: neighbors, efConstruction: efConstruction, efSearch: efSearch)
    options.snapshotEvery = Int.max
    return options
  }

  /// Inserts `items` generated vectors, 5,000 a transaction (also written to the dump); the time
  /// it took.
  private func fill(_ store: SQLiteCatalog, generator: inout ClusteredVectors, dump: VectorDump?) async throws
    -> Duration
  {
    let start = ContinuousClock.now
    for first in stride(from: 0, to: items, by: 5000) {
      let batch = (first..<min(first + 5000, items)).map {
        CatalogItem(id: "item-\($0)", embedding: generator.next())
      }
      try dump?.append(batch.map(\.embedding), to: "vectors.f32")
      try await store.upsert(batch)
    }
    return start.duration(to: .now)
  }

  private func measureHNSW(
    _ store: SQLiteCatalog, path: String, options: IndexOptions, queries: [[Float]], truth: [[String]]
  ) async throws {
    let build = await ContinuousClock().measure { _ = await store.waitUntilIndexed() }
    print(
      String(
        format: "HNSW build (M %d, efConstruction %d): %.1f s after the inserts", neighbors, efConstruction,
        ProgressFormat.seconds(build)))
    let approximate = try await timeQueries(queries) {
      try await store.search(vector: $0, k: k, filter: SearchFilter())
    }
    let found = zip(approximate.results, truth).map { Set($0).intersection($1).count }.reduce(0, +)
    print(
      String(
        format: "HNSW top-%d (efSearch %d): p50 %.2f ms, p95 %.2f ms, recall@%d %.4f", k, efSearch,
        approximate.latency.p50Milliseconds, approximate.latency.p95Milliseconds, k,
        Double(found) / Double(truth.count * k)))
    let snapshot = try ContinuousClock().measure { try store.saveIndexSnapshot() }
    print(String(format: "snapshot write: %.1f s", ProgressFormat.seconds(snapshot)))
    let reopen = try ContinuousClock().measure {
      let reopened = try SQLiteCatalog(path: path, model: "bench", dimension: dimension, options: options)
      print(
        "reopened: \(reopened.indexStatus.inGraph) of \(reopened.indexStatus.items) items in the graph at once"
      )
    }
    print(String(format: "reopen (SQLite rows + HNSW snapshot): %.1f s", ProgressFormat.seconds(reopen)))
  }

  private func timeQueries(_ queries: [[Float]], _ search: ([Float]) async throws -> [SearchResult])
    async throws -> (latency: LatencySummary, results: [[String]])
  {
    var durations: [Duration] = []
    var results: [[String]] = []
    for query in queries {
      var ids: [String] = []
      let duration = try await ContinuousClock().measure { ids = try await search(query).map(\.id) }
      durations.append(duration)
      results.append(ids)
    }
    return (LatencySummary(durations), results)
  }
}

/// Raw float32 files (row-major) for bench/faiss_hnsw.py: the same vectors, for FAISS's own figures.
struct VectorDump {
  let folder: URL

  init(folder: String) throws {
    self.folder = URL(fileURLWithPath: folder)
    try FileManager.default.createDirectory(at: self.folder, withIntermediateDirectories: true)
    for name in ["vectors.f32", "queries.f32"] {
      try? FileManager.default.removeItem(at: self.folder.appendingPathComponent(name))
    }
  }

  func append(_ vectors: [[Float]], to name: String) throws {
    let url = folder.appendingPathComponent(name)
    if !FileManager.default.fileExists(atPath: url.path) {
      FileManager.default.createFile(atPath: url.path, contents: nil)
    }
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: vectors.flatMap { $0 }.withUnsafeBytes { Data($0) })
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
