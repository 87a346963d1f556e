import Foundation

/// An HNSW graph over the catalog, kept up to date in the background.
///
/// FAISS's HNSW cannot delete or replace a vector, so every vector gets a fresh label when it
/// is added, and a replaced or deleted item's old label is marked stale: searches only accept
/// live labels (a bitmap FAISS checks during the graph walk). Items not yet in the graph
/// (the "tail") are searched exactly beside it, so a write is visible to the very next
/// search. A background worker adds the tail to the graph in chunks.
/// `@unchecked Sendable`: the label tables and the tail change only under `state`; the graph is searched under `graphLock`'s read side and grown under its write side.
final class ApproximateIndex: @unchecked Sendable {
  let dimension: Int
  let parameters: HNSWGraph.Parameters
  private let graph: HNSWGraph
  /// Searches share the graph; adding to it is exclusive.
  private let graphLock = ReadWriteLock()

  // Label bookkeeping, guarded by `state`.
  private let state = NSLock()
  private var idOfLabel: [String?] = []
  private var labelOfID: [String: Int] = [:]
  private var liveLabels: [UInt8] = []
  /// Ids waiting to be added, with the version of their latest write.
  private var tail: [String: UInt64] = [:]
  private var nextVersion: UInt64 = 0
  private var workerRunning = false
  /// Items written so far (the worker measures the rate of incoming writes from it).
  private var arrivals = 0
  private var addedSinceSnapshot = 0

  /// Called by the worker after it has caught up, with how many vectors it added since the
  /// last snapshot (the catalog decides whether to write one).
  var onCaughtUp: (@Sendable (Int) -> Void)?

  init(dimension: Int, parameters: HNSWGraph.Parameters) throws {
    self.dimension = dimension
    self.parameters = parameters
    graph = try HNSWGraph(dimension: dimension, parameters: parameters)
    graph.setEfSearch(parameters.efSearch)
  }

  /// Resumes from a snapshot: `labels[i]` is the id of label i, nil where it was stale.
  /// `isCurrent(id)` says whether the item is unchanged since the snapshot.
  init(
    graph: HNSWGraph, labels: [String?], parameters: HNSWGraph.Parameters, isCurrent: (String) -> Bool
  ) {
    dimension = graph.dimension
    self.parameters = parameters
    self.graph = graph
    graph.setEfSearch(parameters.efSearch)
    idOfLabel = labels.map { id in id.flatMap { isCurrent($0) ? $0 : nil } }
    liveLabels = [UInt8](repeating: 0, count: (labels.count + 7) / 8)
    for (label, id) in idOfLabel.enumerated() {
      guard let id else { continue }
      labelOfID[id] = label
      liveLabels[label / 8] |= 1 << (label % 8)
    }
  }

  var graphCount: Int { graphLock.read { graph.count } }
  var tailCount: Int { state.withLock { tail.count } }
  var liveCount: Int { state.withLock { labelOfID.count } }
  var isWorking: Bool { state.withLock { workerRunning } }
  /// Whether vectors were added to the graph since the last snapshot (or since it was read).
  var hasUnsavedAdditions: Bool { state.withLock { addedSinceSnapshot > 0 } }

  // MARK: Keeping up with writes

  /// Records new or replaced items: their old labels go stale, they join the tail.
  func noteUpserted(_ ids: [String]) {
    state.withLock {
      for id in ids {
        if let label = labelOfID.removeValue(forKey: id) { markStale(label) }
        nextVersion += 1
        tail[id] = nextVersion
      }
      arrivals += ids.count
    }
    startWorker()
  }

  func noteRemoved(_ id: String) {
    state.withLock {
      if let label = labelOfID.removeValue(forKey: id) { markStale(label) }
      tail[id] = nil
    }
  }

  /// Ids present in the catalog but in neither the graph nor the tail (after a snapshot).
  func noteMissing(_ ids: some Sequence<String>) {
    let missing = state.withLock { ids.filter { labelOfID[$0] == nil && tail[$0] == nil } }
    if !missing.isEmpty { noteUpserted(missing) }
  }

  /// Clears the label's live bit. Its id stays in `idOfLabel`: a search that began before
  /// the write can still name the item (the write's new version was not in its tail yet).
  private func markStale(_ label: Int) {
    liveLabels[label / 8] &= ~(1 << (label % 8))
  }

  private func isLive(_ label: Int) -> Bool { liveLabels[label / 8] & (1 << (label % 8)) != 0 }

  // MARK: The background worker

  /// Vectors come from the exact index; set before the first write.
  var vectorSource: (@Sendable ([String]) -> [(id: String, vector: [Float])])?

  private func startWorker() {
    let start = state.withLock {
      if workerRunning || tail.isEmpty { return false }
      workerRunning = true
      return true
    }
    guard start else { return }
    Thread.detachNewThread { [self] in runWorker() }
  }

  private func runWorker() {
    let chunkSize = 1024
    var previous = (arrivals: state.withLock { arrivals }, time: ContinuousClock.now)
    Thread.sleep(forTimeInterval: 0.05)
    while true {
      waitForWritesToPause(since: &previous)
      let chunk: [(id: String, version: UInt64)] = state.withLock {
        let taken = tail.prefix(chunkSize).map { (id: $0.key, version: $0.value) }
        if taken.isEmpty { workerRunning = false }
        return taken
      }
      guard !chunk.isEmpty else { break }
      let vectors = vectorSource?(chunk.map(\.id)) ?? []
      let versions = Dictionary(uniqueKeysWithValues: chunk.map { ($0.id, $0.version) })
      addToGraph(vectors, versions: versions, alsoDropping: Set(chunk.map(\.id)))
    }
    let added = state.withLock { addedSinceSnapshot }
    onCaughtUp?(added)
  }

  /// During a bulk load the graph would take the cores from the writes (and its tail is too
  /// long for searches to use it anyway): while more than 5,000 items a second arrive, wait.
  /// A trickle of writes does not hold the graph back.
  private func waitForWritesToPause(since previous: inout (arrivals: Int, time: ContinuousClock.Instant)) {
    while true {
      let now = ContinuousClock.now
      let current = state.withLock { arrivals }
      let elapsed = previous.time.duration(to: now)
      let rate =
        Double(current - previous.arrivals)
        / max(elapsed / .seconds(1), 1e-3)
      previous = (current, now)
      if rate < 5000 { return }
      Thread.sleep(forTimeInterval: 0.2)
    }
  }

  private func addToGraph(
    _ vectors: [(id: String, vector: [Float])], versions: [String: UInt64], alsoDropping chunkIDs: Set<String>
  ) {
    let firstLabel: Int
    do {
      firstLabel = try graphLock.write {
        let first = graph.count
        try graph.add(vectors.flatMap(\.vector))
        return first
      }
    } catch {
      // Leave the items in the tail: they stay searchable exactly.
      CatalogLog.warnOnce(
        "graph_add_failed", "cannot add vectors to the HNSW graph; they stay searchable by the exact scan",
        ["error": "\(error)"])
      return
    }
    state.withLock {
      let total = firstLabel + vectors.count
      idOfLabel.append(contentsOf: [String?](repeating: nil, count: max(0, total - idOfLabel.count)))
      let bytes = (total + 7) / 8
      if liveLabels.count < bytes {
        liveLabels.append(contentsOf: [UInt8](repeating: 0, count: bytes - liveLabels.count))
      }
      let present = Set(vectors.map(\.id))
      for (offset, entry) in vectors.enumerated() {
        let label = firstLabel + offset
        // Written again (or deleted) while it was being added: this label is already stale.
        guard tail[entry.id] == versions[entry.id] else { continue }
        tail[entry.id] = nil
        idOfLabel[label] = entry.id
        labelOfID[entry.id] = label
        liveLabels[label / 8] |= 1 << (label % 8)
      }
      // Ids of the chunk that had no vector any more were deleted: nothing to add.
      for id in chunkIDs.subtracting(present) where tail[id] == versions[id] { tail[id] = nil }
      addedSinceSnapshot += vectors.count
    }
  }

  // MARK: Searching

  /// The graph's best `k` live items, and the ids of the tail (for the caller's exact scan),
  /// taken at one instant: an item moving from the tail into the graph meanwhile is in
  /// exactly one of the two.
  func search(_ query: [Float], k: Int) throws -> (hits: [(id: String, score: Float)], tail: [String]) {
    let (allowed, tailIDs) = state.withLock { (liveLabels, Array(tail.keys)) }
    let efSearch = max(parameters.efSearch, k)
    let hits = try graphLock.read { try graph.search(query, k: k, efSearch: efSearch, allowed: allowed) }
    let named = state.withLock {
      hits.compactMap { hit in
        hit.label < idOfLabel.count ? idOfLabel[hit.label].map { ($0, hit.score) } : nil
      }
    }
    return (named, tailIDs)
  }

  // MARK: Snapshots

  /// A copy of the label table (the catalog takes it in step with its write sequence).
  var labelTable: [String?] {
    state.withLock { idOfLabel.indices.map { isLive($0) ? idOfLabel[$0] : nil } }
  }

  /// Writes the graph and the label table taken at `sequence` (the catalog write sequence
  /// every live label reflects). Both files are written beside and renamed into place.
  func writeSnapshot(to path: String, labels: [String?], sequence: UInt64) throws {
    try graphLock.read {
      // Vectors added after the table was taken have no label in it: stale on reload.
      let padded = labels + [String?](repeating: nil, count: max(0, graph.count - labels.count))
      try graph.write(to: path + ".tmp")
      try HNSWSnapshot.writeLabels(
        padded, sequence: sequence, graphCount: graph.count, to: path + ".labels.tmp")
      for file in [path, path + ".labels"] where rename(file + ".tmp", file) != 0 {
        throw CatalogError.storage("cannot move the HNSW snapshot into place at \(file)")
      }
      state.withLock { addedSinceSnapshot = 0 }
    }
  }
}
