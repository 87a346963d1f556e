/// A binary min-heap of candidate merges ordered by rank, then position.
struct MergeHeap {
  struct Entry {
    let rank: Int
    let position: Int
    let id: Int

    func precedes(_ other: Entry) -> Bool {
      rank != other.rank ? rank < other.rank : position < other.position
    }
  }

  private var entries: [Entry] = []

  mutating func push(_ entry: Entry) {
    entries.append(entry)
    var child = entries.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard entries[child].precedes(entries[parent]) else { break }
      entries.swapAt(child, parent)
      child = parent
    }
  }

  mutating func pop() -> Entry? {
    guard !entries.isEmpty else { return nil }
    entries.swapAt(0, entries.count - 1)
    let top = entries.removeLast()
    var parent = 0
    while true {
      let left = 2 * parent + 1
      let right = left + 1
      var smallest = parent
      if left < entries.count, entries[left].precedes(entries[smallest]) { smallest = left }
      if right < entries.count, entries[right].precedes(entries[smallest]) { smallest = right }
      if smallest == parent { return top }
      entries.swapAt(parent, smallest)
      parent = smallest
    }
  }
}
