import Testing

@testable import Tracking

@Suite struct LinearAssignmentTests {
  /// `lap.lapjv(extend_cost=True, cost_limit=thresh)` on matrices full of ties: the same
  /// pairs, the same unmatched rows and columns.
  @Test func sameAssignmentsAsLap() throws {
    let cases = ByteTrackGoldens.shared.assignments
    #expect(cases.count >= 100)
    for (number, item) in cases.enumerated() {
      let rows = item.cost.count
      let columns = item.cost[0].count
      let result = LinearAssignment.solve(
        cost: item.cost.flatMap { $0.map(Float.init) }, rows: rows, columns: columns, thresh: item.thresh)
      var x = [Int](repeating: -1, count: rows)
      var y = [Int](repeating: -1, count: columns)
      for (row, column) in result.matches { (x[row], y[column]) = (column, row) }
      try #require(x == item.x && y == item.y, "case \(number) \(item.cost): \(x) vs lap \(item.x)")
      #expect(result.unmatchedRows == x.indices.filter { x[$0] < 0 })
      #expect(result.unmatchedColumns == y.indices.filter { y[$0] < 0 })
    }
  }

  @Test func pairsAtOrAboveTheLimitStayUnmatched() {
    // 0.8 is not below the limit: matching it costs 0.8, leaving both costs 0.4 + 0.4.
    let result = LinearAssignment.solve(cost: [0.1, 0.8], rows: 2, columns: 1, thresh: 0.8)
    #expect(result.matches.map { [$0.row, $0.column] } == [[0, 0]])
    #expect(result.unmatchedRows == [1])
  }

  @Test func emptyMatrices() {
    let result = LinearAssignment.solve(cost: [], rows: 3, columns: 0, thresh: 0.8)
    #expect(result.matches.isEmpty && result.unmatchedRows == [0, 1, 2] && result.unmatchedColumns.isEmpty)
  }
}
