import Foundation

/// Eigen-decomposition of a small dense symmetric matrix (cyclic Jacobi rotations, Double precision).
/// Used by the low-rank additive and linear baselines, whose matrices are at most a few hundred rows
/// (one per perturbation target); pv links no LAPACK, and Jacobi is accurate to rounding for such sizes.
public enum SymmetricEigen {
    /// Eigenvalues in descending order and the matching unit eigenvectors, as columns of a row-major n x n matrix
    /// (`vectors[i * n + j]` is component i of eigenvector j). Ties keep the lower original index first.
    public static func decompose(_ matrix: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n, "matrix must be n x n")
        if n == 0 { return ([], []) }
        var a = matrix
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var scale = 0.0
        for x in a { scale = max(scale, abs(x)) }
        if scale > 0 {
            for _ in 0..<100 {
                var off = 0.0
                for i in 0..<n { for j in (i + 1)..<n { off += a[i * n + j] * a[i * n + j] } }
                if off.squareRoot() <= 1e-15 * scale * Double(n) { break }
                for p in 0..<n {
                    for q in (p + 1)..<n {
                        let apq = a[p * n + q]
                        if abs(apq) <= 1e-300 { continue }
                        let app = a[p * n + p], aqq = a[q * n + q]
                        let theta = (aqq - app) / (2 * apq)
                        let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                        let c = 1 / (t * t + 1).squareRoot(), s = t * c
                        for k in 0..<n {
                            let akp = a[k * n + p], akq = a[k * n + q]
                            a[k * n + p] = c * akp - s * akq
                            a[k * n + q] = s * akp + c * akq
                        }
                        for k in 0..<n {
                            let apk = a[p * n + k], aqk = a[q * n + k]
                            a[p * n + k] = c * apk - s * aqk
                            a[q * n + k] = s * apk + c * aqk
                        }
                        for k in 0..<n {
                            let vkp = v[k * n + p], vkq = v[k * n + q]
                            v[k * n + p] = c * vkp - s * vkq
                            v[k * n + q] = s * vkp + c * vkq
                        }
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0 * n + $0] != a[$1 * n + $1] ? a[$0 * n + $0] > a[$1 * n + $1] : $0 < $1 }
        var values = [Double](repeating: 0, count: n)
        var vectors = [Double](repeating: 0, count: n * n)
        for (j, src) in order.enumerated() {
            values[j] = a[src * n + src]
            // Fix the sign so the largest-magnitude component is positive (deterministic output).
            var big = 0.0
            for i in 0..<n where abs(v[i * n + src]) > abs(big) { big = v[i * n + src] }
            let sign = big < 0 ? -1.0 : 1.0
            for i in 0..<n { vectors[i * n + j] = sign * v[i * n + src] }
        }
        return (values, vectors)
    }

    /// Solves the symmetric positive-definite system A x = b (n x n, row-major) by Cholesky; nil when A is not
    /// positive definite.
    public static func solveSPD(_ matrix: [Double], _ b: [Double], n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = matrix[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
        var y = b
        for i in 0..<n {
            var s = y[i]
            for k in 0..<i { s -= l[i * n + k] * y[k] }
            y[i] = s / l[i * n + i]
        }
        var x = y
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = x[i]
            for k in (i + 1)..<n { s -= l[k * n + i] * x[k] }
            x[i] = s / l[i * n + i]
        }
        return x
    }
}
