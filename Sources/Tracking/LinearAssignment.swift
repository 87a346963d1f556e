/// Linear assignment as Ultralytics' trackers call it: `lap.lapjv(cost, extend_cost=True,
/// cost_limit=thresh)`.
///
/// The rectangular cost matrix is extended to a square one of side rows + columns: the
/// original costs top left, `thresh / 2` in the two off-diagonal blocks (leaving a row or a
/// column unmatched costs half the limit, so a pair is only worth matching below the limit),
/// zeros bottom right. The square problem is solved by the Jonker-Volgenant algorithm in the
/// order of `lap`'s dense solver (column reduction, two rounds of augmenting row reduction,
/// then shortest augmenting paths), step for step: when several assignments cost the same,
/// the one chosen is the one `lap` chooses, so track ids agree with Ultralytics on ties.
public enum LinearAssignment {
  /// The result: matched (row, column) pairs in row order, and the unmatched rows and columns
  /// in increasing order.
  public struct Result: Equatable, Sendable {
    public var matches: [(row: Int, column: Int)]
    public var unmatchedRows: [Int]
    public var unmatchedColumns: [Int]

    public static func == (lhs: Result, rhs: Result) -> Bool {
      lhs.matches.map { [$0.row, $0.column] } == rhs.matches.map { [$0.row, $0.column] }
        && lhs.unmatchedRows == rhs.unmatchedRows && lhs.unmatchedColumns == rhs.unmatchedColumns
    }
  }

  /// Assigns rows to columns of `cost` (row-major, `rows` × `columns`), matching a pair only
  /// when that lowers the total below leaving both unmatched at `thresh / 2` each.
  public static func solve(cost: [Float], rows: Int, columns: Int, thresh: Double) -> Result {
    precondition(cost.count == rows * columns, "cost has \(cost.count) entries, not \(rows)×\(columns)")
    guard rows > 0, columns > 0 else {
      // Ultralytics returns before calling lap when the matrix is empty.
      return Result(matches: [], unmatchedRows: Array(0..<rows), unmatchedColumns: Array(0..<columns))
    }
    let n = rows + columns
    var square = [Double](repeating: thresh / 2, count: n * n)
    for i in 0..<n {
      for j in 0..<n where i >= rows && j >= columns { square[i * n + j] = 0 }
    }
    for i in 0..<rows {
      for j in 0..<columns { square[i * n + j] = Double(cost[i * columns + j]) }
    }
    var solver = JonkerVolgenant(n: n, cost: square)
    let x = solver.solve()
    var result = Result(matches: [], unmatchedRows: [], unmatchedColumns: [])
    var columnTaken = [Bool](repeating: false, count: columns)
    for i in 0..<rows {
      if x[i] < columns {
        result.matches.append((i, x[i]))
        columnTaken[x[i]] = true
      } else {
        result.unmatchedRows.append(i)
      }
    }
    result.unmatchedColumns = (0..<columns).filter { !columnTaken[$0] }
    return result
  }
}

/// `lap`'s dense Jonker-Volgenant solver (`lapjv.cpp`), for a square matrix. Kept in the
/// same order of operations and comparisons (strict and non-strict alike), which decide
/// among equal-cost assignments.
struct JonkerVolgenant {
  let n: Int
  let cost: [Double]
  /// `lap`'s LARGE: the initial "infinite" reduced cost.
  static let large = 1_000_000.0

  private var x: [Int]  // column of each row, -1 when free
  private var y: [Int]  // row of each column, -1 when free
  private var v: [Double]  // column potentials

  init(n: Int, cost: [Double]) {
    self.n = n
    self.cost = cost
    x = [Int](repeating: -1, count: n)
    y = [Int](repeating: 0, count: n)
    v = [Double](repeating: Self.large, count: n)
  }

  private func c(_ i: Int, _ j: Int) -> Double { cost[i * n + j] }

  /// The column assigned to each row.
  mutating func solve() -> [Int] {
    var free = columnReduction()
    var round = 0
    while !free.isEmpty && round < 2 {
      free = augmentingRowReduction(free)
      round += 1
    }
    for row in free { augment(from: row) }
    return x
  }

  /// Column reduction and reduction transfer (`_ccrrt_dense`); returns the free rows.
  private mutating func columnReduction() -> [Int] {
    for i in 0..<n {
      for j in 0..<n where c(i, j) < v[j] {
        v[j] = c(i, j)
        y[j] = i
      }
    }
    var unique = [Bool](repeating: true, count: n)
    for j in stride(from: n - 1, through: 0, by: -1) {
      let i = y[j]
      if x[i] < 0 {
        x[i] = j
      } else {
        unique[i] = false
        y[j] = -1
      }
    }
    var free: [Int] = []
    for i in 0..<n {
      if x[i] < 0 {
        free.append(i)
      } else if unique[i] {
        let j = x[i]
        var least = Self.large
        for j2 in 0..<n where j2 != j && c(i, j2) - v[j2] < least { least = c(i, j2) - v[j2] }
        v[j] -= least
      }
    }
    return free
  }

  /// The columns of the least and second least reduced cost of a row, with those costs (the
  /// first of equal ones, as `lap` scans).
  private func twoSmallest(_ row: Int) -> (Int, Double, Int, Double) {
    var (j1, v1, j2, v2) = (0, c(row, 0) - v[0], -1, Self.large)
    for j in 1..<max(n, 1) {
      let reduced = c(row, j) - v[j]
      guard reduced < v2 else { continue }
      if reduced >= v1 {
        (v2, j2) = (reduced, j)
      } else {
        (v2, v1, j2, j1) = (v1, reduced, j1, j)
      }
    }
    return (j1, v1, j2, v2)
  }

  /// One round of augmenting row reduction (`_carr_dense`); returns the rows left free.
  private mutating func augmentingRowReduction(_ initial: [Int]) -> [Int] {
    var freeRows = initial + [Int](repeating: 0, count: n)
    let count = initial.count
    var current = 0
    var newFree = 0
    var reductions = 0
    while current < count {
      reductions += 1
      let freeRow = freeRows[current]
      current += 1
      var (j1, v1, j2, v2) = twoSmallest(freeRow)
      var i0 = y[j1]
      let v1New = v[j1] - (v2 - v1)
      let v1Lowers = v1New < v[j1]
      if reductions < current * n {
        if v1Lowers {
          v[j1] = v1New
        } else if i0 >= 0 && j2 >= 0 {
          j1 = j2
          i0 = y[j2]
        }
        if i0 >= 0 {
          if v1Lowers {
            current -= 1
            freeRows[current] = i0
          } else {
            freeRows[newFree] = i0
            newFree += 1
          }
        }
      } else if i0 >= 0 {
        freeRows[newFree] = i0
        newFree += 1
      }
      x[freeRow] = j1
      y[j1] = freeRow
    }
    return Array(freeRows[0..<newFree])
  }
}

extension JonkerVolgenant {
  /// Augments from a free row along the shortest path to a free column (`_ca_dense`).
  fileprivate mutating func augment(from freeRow: Int) {
    var pred = [Int](repeating: 0, count: n)
    var j = findPath(from: freeRow, pred: &pred)
    var i = -1
    var steps = 0
    while i != freeRow {
      i = pred[j]
      y[j] = i
      swap(&j, &x[i])
      steps += 1
      precondition(steps < n, "augmenting path longer than the matrix")
    }
  }

  /// One Dijkstra-like search over reduced costs (`find_path_dense`); updates the
  /// potentials of the columns it settled and returns the free column reached.
  private mutating func findPath(from start: Int, pred: inout [Int]) -> Int {
    var cols = Array(0..<n)
    var d = (0..<n).map { c(start, $0) - v[$0] }
    for k in 0..<n { pred[k] = start }
    var (lo, hi, ready) = (0, 0, 0)
    var final = -1
    while final == -1 {
      if lo == hi {
        ready = lo
        hi = Self.findMinimum(n: n, lo: lo, d: d, cols: &cols)
        for k in lo..<hi where y[cols[k]] < 0 { final = cols[k] }
      }
      if final == -1 {
        final = scan(lo: &lo, hi: &hi, d: &d, cols: &cols, pred: &pred)
      }
    }
    let least = d[cols[lo]]
    for k in 0..<ready { v[cols[k]] += d[cols[k]] - least }
    return final
  }

  /// Moves the columns with the least `d` from `lo` on to the front (`_find_dense`); returns
  /// the end of that run.
  private static func findMinimum(n: Int, lo: Int, d: [Double], cols: inout [Int]) -> Int {
    var hi = lo + 1
    var least = d[cols[lo]]
    for k in hi..<max(n, hi) {
      let j = cols[k]
      guard d[j] <= least else { continue }
      if d[j] < least {
        hi = lo
        least = d[j]
      }
      cols[k] = cols[hi]
      cols[hi] = j
      hi += 1
    }
    return hi
  }

  /// Scans the columns between `lo` and `hi`, lowering `d` of the columns not yet reached
  /// (`_scan_dense`); returns a free column at the least distance, or -1. Like `lap`, it
  /// writes `lo` and `hi` back only when it found no free column.
  private func scan(
    lo scanStart: inout Int, hi scanEnd: inout Int, d: inout [Double], cols: inout [Int], pred: inout [Int]
  ) -> Int {
    var (lo, hi) = (scanStart, scanEnd)
    while lo != hi {
      let scanned = cols[lo]
      lo += 1
      let i = y[scanned]
      let least = d[scanned]
      let h = c(i, scanned) - v[scanned] - least
      for k in hi..<max(n, hi) {
        let j = cols[k]
        let reduced = c(i, j) - v[j] - h
        guard reduced < d[j] else { continue }
        d[j] = reduced
        pred[j] = i
        if reduced == least {
          if y[j] < 0 { return j }
          cols[k] = cols[hi]
          cols[hi] = j
          hi += 1
        }
      }
    }
    (scanStart, scanEnd) = (lo, hi)
    return -1
  }
}
