import Foundation

/// How the embedded catalog indexes its vectors.
public struct IndexOptions: Sendable {
  /// From this many items on, an HNSW graph answers unfiltered and broad filtered searches;
  /// below it (and for selective filters) the exact scan does.
  public var hnswThreshold = 200_000
  public var hnsw = HNSWParameters()
  /// The graph is used only while at most this many items wait to be added to it (they are
  /// searched exactly beside it); during a big bulk load the exact scan answers instead.
  public var maximumTail = 4096
  /// A snapshot of the graph is written after this many vectors were added to it.
  public var snapshotEvery = 50_000
  /// Whether to write and read HNSW snapshots beside the SQLite file.
  public var snapshots = true

  public init() {}
}

/// The catalog's in-memory indexes, derived from the store: the exact index always, the HNSW
/// graph above the threshold. Searches pick between them; writes go to both.
/// `@unchecked Sendable`: `approximate` changes only under `lock`; `requestSnapshot` is set once by the owner before the index is shared.
final class CatalogIndex: @unchecked Sendable {
  let exact: VectorIndex
  let options: IndexOptions
  private let lock = NSLock()
  private var approximate: ApproximateIndex?
  /// Asked to write a snapshot (the catalog takes it in step with its write sequence).
  var requestSnapshot: (@Sendable () -> Void)?

  init(dimension: Int, options: IndexOptions) {
    exact = VectorIndex(dimension: dimension)
    self.options = options
  }

  var approximateIndex: ApproximateIndex? { lock.withLock { approximate } }

  // MARK: Writes

  func applyUpserts(_ items: [CatalogItem]) {
    exact.upsert(items)
    if let approximate = approximateIndex {
      approximate.noteUpserted(items.map(\.id))
    } else if exact.count >= options.hnswThreshold {
      startApproximate(restoring: nil)
    }
  }

  func applyRemove(_ id: String) {
    exact.remove(id: id)
    approximateIndex?.noteRemoved(id)
  }

  /// Builds the graph in the background, from a snapshot when one is given.
  func startApproximate(restoring snapshot: ApproximateIndex?) {
    let created: ApproximateIndex
    do {
      created = try snapshot ?? ApproximateIndex(dimension: exact.dimension, parameters: options.hnsw)
    } catch {
      // Without a graph every search is exact: slower, still correct.
      CatalogLog.warnOnce(
        "graph_unavailable", "cannot build the HNSW graph; every search is an exact scan",
        ["error": "\(error)"])
      return
    }
    created.vectorSource = { [exact] ids in exact.vectors(of: ids) }
    let every = options.snapshotEvery
    created.onCaughtUp = { [weak self] added in
      if added >= every { self?.requestSnapshot?() }
    }
    lock.withLock { approximate = created }
    created.noteMissing(exact.ids)
  }

  // MARK: Search

  func search(_ query: [Float], k: Int, filter: SearchFilter) throws -> [VectorIndex.Match] {
    try exact.checkFilterFields(filter)
    if let approximate = approximateIndex, approximate.tailCount <= options.maximumTail,
      let matches = try approximateSearch(approximate, query, k: k, filter: filter)
    {
      return matches
    }
    return try exact.search(query, k: k, filter: filter)
  }

  /// Graph hits plus the exact scan of the tail; nil when a filter left fewer than k (the
  /// exact scan then finds every match).
  private func approximateSearch(
    _ approximate: ApproximateIndex, _ query: [Float], k: Int, filter: SearchFilter
  ) throws -> [VectorIndex.Match]? {
    let fetch = filter.isEmpty ? k : 4 * k
    let found = try approximate.search(query, k: fetch)
    let hits = exact.lookup(found.hits, filter: filter)
    let tail = exact.search(query, k: k, filter: filter, among: found.tail)
    let merged = (hits + tail).sorted { $0.score > $1.score }.prefix(k)
    if merged.count < k && merged.count < exact.count { return nil }
    return Array(merged)
  }
}
