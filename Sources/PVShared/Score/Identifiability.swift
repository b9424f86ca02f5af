import Foundation

/// Identifiability of learned latents against a simulation's true ones (pv-simulate's latents.npy), as the
/// PerturbedVAE paper evaluates it: MCC for the response block z_ν (learned components may be any permutation and
/// scaling of the true ones, so they are matched one to one first) and R² of a linear map from learned μ_ι to the
/// true z_ι for the background block (identified only up to an affine map).
public enum Identifiability {
    /// Mean absolute Pearson correlation of matched pairs after the best one-to-one matching of the columns of
    /// `truth` [n, a] and `learned` [n, b] (row-major, rows = the same cells): the matching maximises the sum of
    /// |corr| (Hungarian algorithm); min(a, b) pairs are averaged. A constant column correlates 0 with everything.
    /// `pairs[i]` = (true column, learned column), sorted by true column.
    public static func mcc(truth: [Float], learned: [Float], rows n: Int) -> (mcc: Double, pairs: [(Int, Int)]) {
        precondition(n > 0 && truth.count % n == 0 && learned.count % n == 0, "both blocks need n rows")
        let a = truth.count / n, b = learned.count / n
        guard a > 0 && b > 0 else { return (0, []) }
        let c = absCorrelations(truth, a, learned, b, n)
        let pairs = linearSumAssignment(cost: c.map { -$0 }, rows: a, cols: b)
        let total = pairs.reduce(0.0) { $0 + c[$1.0 * b + $1.1] }
        return (total / Double(pairs.count), pairs)
    }

    /// |Pearson correlation| between column i of x [n, a] and column j of y [n, b], as [a, b] row-major.
    static func absCorrelations(_ x: [Float], _ a: Int, _ y: [Float], _ b: Int, _ n: Int) -> [Double] {
        func standardised(_ m: [Float], _ d: Int) -> [Double] {
            var s = [Double](repeating: 0, count: n * d)
            for j in 0..<d {
                var mean = 0.0
                for i in 0..<n { mean += Double(m[i * d + j]) }
                mean /= Double(n)
                var ss = 0.0
                for i in 0..<n { let v = Double(m[i * d + j]) - mean; s[i * d + j] = v; ss += v * v }
                // A constant column (a collapsed latent) stays all zero: correlation 0.
                let inv = ss > 1e-24 ? 1 / ss.squareRoot() : 0
                for i in 0..<n { s[i * d + j] *= inv }
            }
            return s
        }
        let sx = standardised(x, a), sy = standardised(y, b)
        var c = [Double](repeating: 0, count: a * b)
        for i in 0..<n { for p in 0..<a { let v = sx[i * a + p]; if v == 0 { continue }
            for q in 0..<b { c[p * b + q] += v * sy[i * b + q] } } }
        return c.map { Swift.min(1, abs($0)) }
    }

    /// R² of the least-squares regression (with intercept) of each column of `target` [n, a] on all columns of
    /// `predictors` [n, b], averaged over the target columns (sklearn's r2_score 'uniform_average'). Predictor
    /// columns that are constant or linearly dependent on earlier ones are dropped (a collapsed latent adds nothing).
    /// A constant target column is left out of the average.
    public static func linearR2(target: [Float], predictors: [Float], rows n: Int) -> Double {
        precondition(n > 0 && target.count % n == 0 && predictors.count % n == 0, "both blocks need n rows")
        let a = target.count / n, b = predictors.count / n
        // Centred copies in Double: centring absorbs the intercept.
        func centred(_ m: [Float], _ d: Int) -> [Double] {
            var s = [Double](repeating: 0, count: n * d)
            for j in 0..<d {
                var mean = 0.0
                for i in 0..<n { mean += Double(m[i * d + j]) }
                mean /= Double(n)
                for i in 0..<n { s[i * d + j] = Double(m[i * d + j]) - mean }
            }
            return s
        }
        let X = centred(predictors, b), Y = centred(target, a)
        // Gram–Schmidt (modified, twice) on the predictor columns: an orthonormal basis Q of their span.
        var Q: [[Double]] = []
        for j in 0..<b {
            var v = (0..<n).map { X[$0 * b + j] }
            let norm0 = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm0 > 0 else { continue }
            for _ in 0..<2 { for q in Q {
                var dot = 0.0
                for i in 0..<n { dot += q[i] * v[i] }
                for i in 0..<n { v[i] -= dot * q[i] }
            } }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 1e-9 * norm0 else { continue }
            Q.append(v.map { $0 / norm })
        }
        var sum = 0.0, used = 0
        for t in 0..<a {
            let y = (0..<n).map { Y[$0 * a + t] }
            let ssTot = y.reduce(0) { $0 + $1 * $1 }
            guard ssTot > 0 else { continue }
            var explained = 0.0
            for q in Q { var dot = 0.0; for i in 0..<n { dot += q[i] * y[i] }; explained += dot * dot }
            sum += Swift.min(1, explained / ssTot); used += 1
        }
        return used > 0 ? sum / Double(used) : 0
    }
}

/// The assignment of rows to columns of `cost` [rows, cols] (row-major) with the smallest total cost, each row and
/// column used at most once, min(rows, cols) pairs: the Hungarian algorithm with potentials (Kuhn–Munkres in the
/// O(n²m) shortest-augmenting-path form). Same optimum as scipy.optimize.linear_sum_assignment. Pairs (row, col) are
/// sorted by row.
public func linearSumAssignment(cost: [Double], rows: Int, cols: Int) -> [(Int, Int)] {
    precondition(cost.count == rows * cols, "cost must be rows x cols")
    precondition(cost.allSatisfy { $0.isFinite }, "costs must be finite")
    guard rows > 0 && cols > 0 else { return [] }
    // The algorithm assigns every row of an n x m matrix with n <= m; transpose otherwise.
    let transposed = rows > cols
    let n = transposed ? cols : rows, m = transposed ? rows : cols
    func c(_ i: Int, _ j: Int) -> Double { transposed ? cost[j * cols + i] : cost[i * cols + j] }
    // 1-based potentials u (rows), v (columns); p[j] = row matched to column j (0: none); way = augmenting path.
    var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: m + 1)
    var p = [Int](repeating: 0, count: m + 1), way = [Int](repeating: 0, count: m + 1)
    var minv = [Double](repeating: 0, count: m + 1), used = [Bool](repeating: false, count: m + 1)
    for i in 1...n {
        p[0] = i
        var j0 = 0
        for j in 0...m { minv[j] = .infinity; used[j] = false }
        repeat {
            used[j0] = true
            let i0 = p[j0]
            var delta = Double.infinity, j1 = 0
            for j in 1...m where !used[j] {
                let cur = c(i0 - 1, j - 1) - u[i0] - v[j]
                if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                if minv[j] < delta { delta = minv[j]; j1 = j }
            }
            for j in 0...m {
                if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
            }
            j0 = j1
        } while p[j0] != 0
        repeat { let j1 = way[j0]; p[j0] = p[j1]; j0 = j1 } while j0 != 0
    }
    var pairs: [(Int, Int)] = []
    for j in 1...m where p[j] != 0 { pairs.append(transposed ? (j - 1, p[j] - 1) : (p[j] - 1, j - 1)) }
    return pairs.sorted { $0.0 < $1.0 }
}
