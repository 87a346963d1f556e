/// The Kalman filter of ByteTrack (Ultralytics' `KalmanFilterXYAH`): state (x, y, a, h, vx,
/// vy, va, vh) with box centre, aspect ratio w/h, height and their velocities; constant
/// velocity motion; the box (x, y, a, h) observed directly. Noise scales with the box height
/// (weights 1/20 for position, 1/160 for velocity), so a near object may move more pixels.
public struct KalmanFilterXYAH: Sendable {
  static let positionWeight = 1.0 / 20
  static let velocityWeight = 1.0 / 160

  /// A track's state: mean (8) and covariance (8×8, row-major).
  public struct State: Sendable, Equatable {
    public var mean: [Double]
    public var covariance: [Double]
  }

  public init() {}

  /// The state of a new track from its first box (x, y, a, h), velocities zero.
  public func initiate(_ measurement: [Float]) -> State {
    let h = Double(measurement[3])
    let pos = 2 * Self.positionWeight * h
    let vel = 10 * Self.velocityWeight * h
    let std = [pos, pos, 1e-2, pos, vel, vel, 1e-5, vel]
    return State(
      mean: measurement.map(Double.init) + [0, 0, 0, 0], covariance: Matrix.diagonal(std.map { $0 * $0 }))
  }

  /// The state one frame later: x += v, covariance F P Fᵀ + Q.
  public func predict(_ state: State) -> State {
    let h = state.mean[3]
    let pos = Self.positionWeight * h
    let vel = Self.velocityWeight * h
    let q = [pos, pos, 1e-2, pos, vel, vel, 1e-5, vel].map { $0 * $0 }
    var mean = state.mean
    for i in 0..<4 { mean[i] += state.mean[i + 4] }
    // F P Fᵀ with F = [[I, I], [0, I]]: row i of F P adds row i+4, then the same for columns.
    var p = state.covariance
    for i in 0..<4 {
      for j in 0..<8 { p[i * 8 + j] += p[(i + 4) * 8 + j] }
    }
    for i in 0..<8 {
      for j in 0..<4 { p[i * 8 + j] += p[i * 8 + j + 4] }
    }
    for i in 0..<8 { p[i * 8 + i] += q[i] }
    return State(mean: mean, covariance: p)
  }

  /// The state corrected by a measured box (x, y, a, h).
  public func update(_ state: State, measurement: [Float]) -> State {
    let h = state.mean[3]
    let r = [Self.positionWeight * h, Self.positionWeight * h, 1e-1, Self.positionWeight * h].map { $0 * $0 }
    // S = H P Hᵀ + R: the top-left 4×4 block of P plus the measurement noise.
    var s = [Double](repeating: 0, count: 16)
    for i in 0..<4 {
      for j in 0..<4 { s[i * 4 + j] = state.covariance[i * 8 + j] }
      s[i * 4 + i] += r[i]
    }
    // K = P Hᵀ S⁻¹ (8×4): S Kᵀ = H Pᵀ solved with the Cholesky factor of S (symmetric,
    // positive definite; Ultralytics solves it by LU, the same up to rounding).
    let pht = (0..<8).flatMap { i in (0..<4).map { j in state.covariance[i * 8 + j] } }
    let gain = Matrix.transpose(
      Matrix.choleskySolve(s, n: 4, rhs: Matrix.transpose(pht, rows: 8, columns: 4), columns: 8), rows: 4,
      columns: 8)
    let innovation = (0..<4).map { Double(measurement[$0]) - state.mean[$0] }
    var mean = state.mean
    for i in 0..<8 {
      for j in 0..<4 { mean[i] += gain[i * 4 + j] * innovation[j] }
    }
    // P - K S Kᵀ
    let ks = Matrix.multiply(gain, s, rows: 8, inner: 4, columns: 4)
    let kskt = Matrix.multiply(ks, Matrix.transpose(gain, rows: 8, columns: 4), rows: 8, inner: 4, columns: 8)
    let covariance = zip(state.covariance, kskt).map { $0 - $1 }
    return State(mean: mean, covariance: covariance)
  }
}

/// Small dense row-major matrices, for the filter.
enum Matrix {
  static func diagonal(_ values: [Double]) -> [Double] {
    var m = [Double](repeating: 0, count: values.count * values.count)
    for (i, value) in values.enumerated() { m[i * values.count + i] = value }
    return m
  }

  static func transpose(_ m: [Double], rows: Int, columns: Int) -> [Double] {
    (0..<columns).flatMap { j in (0..<rows).map { i in m[i * columns + j] } }
  }

  static func multiply(_ a: [Double], _ b: [Double], rows: Int, inner: Int, columns: Int) -> [Double] {
    var c = [Double](repeating: 0, count: rows * columns)
    for i in 0..<rows {
      for k in 0..<inner {
        let aik = a[i * inner + k]
        for j in 0..<columns { c[i * columns + j] += aik * b[k * columns + j] }
      }
    }
    return c
  }

  /// X with A X = B for a symmetric positive-definite A (n×n) and B (n×columns).
  static func choleskySolve(_ a: [Double], n: Int, rhs b: [Double], columns: Int) -> [Double] {
    var l = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0...i {
        var sum = a[i * n + j]
        for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
        l[i * n + j] = i == j ? sum.squareRoot() : sum / l[j * n + j]
      }
    }
    var x = b
    for c in 0..<columns {
      for i in 0..<n {  // L z = b
        var sum = x[i * columns + c]
        for k in 0..<i { sum -= l[i * n + k] * x[k * columns + c] }
        x[i * columns + c] = sum / l[i * n + i]
      }
      for i in stride(from: n - 1, through: 0, by: -1) {  // Lᵀ x = z
        var sum = x[i * columns + c]
        for k in (i + 1)..<n { sum -= l[k * n + i] * x[k * columns + c] }
        x[i * columns + c] = sum / l[i * n + i]
      }
    }
    return x
  }
}
