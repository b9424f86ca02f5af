import Foundation

/// y = x·W + b with W stored [in, out] row-major (bench/reference/pvae.py). Rows may be strided (`ld*`) so that layers read
/// and write column blocks of a wider buffer without copies.
public struct Linear {
    public let nIn: Int
    public let nOut: Int
    let w, b, dw, db: UnsafeMutablePointer<Float>

    /// A layer whose tensors are `prefix.W` [nIn, nOut] and `prefix.b` [nOut] in `store`.
    public init(_ store: ParamStore, _ prefix: String, _ nIn: Int, _ nOut: Int) {
        self.nIn = nIn; self.nOut = nOut
        w = store.param(prefix + ".W"); b = store.param(prefix + ".b")
        dw = store.grad(prefix + ".W"); db = store.grad(prefix + ".b")
    }

    /// Element-wise work below this many floats stays on one thread (a parallel region costs ~10–20 µs).
    static let parallelWork = 1 << 16
    /// The fewest rows of width `cols` worth a thread.
    @inline(__always) static func minRows(_ cols: Int) -> Int { max(1, parallelWork / max(cols, 1)) }

    /// The (name, shape, fanIn) pairs this layer needs in a ParamStore.
    public static func tensors(_ prefix: String, _ nIn: Int, _ nOut: Int) -> [(String, [Int], Int)] {
        [(prefix + ".W", [nIn, nOut], nIn), (prefix + ".b", [nOut], nIn)]
    }

    /// y[rows, nOut] = x[rows, nIn]·W + b.
    public func forward(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, _ y: UnsafeMutablePointer<Float>, ldy: Int) {
        guard rows > 0, nOut > 0 else { return }
        Parallel.chunks(rows, minChunk: Linear.minRows(nOut)) { range in
            for r in range { (y + r * ldy).update(from: b, count: nOut) }
        }
        if nIn > 0 {
            BLAS.gemm(m: rows, n: nOut, k: nIn, a: x, lda: ldx, b: w, ldb: nOut, beta: 1, c: y, ldc: ldy)
        }
    }

    /// Accumulates dW += xᵀ·dy and db += Σ_rows dy; writes (or adds, when `accumulate`) dx = dy·Wᵀ when dx is given.
    public func backward(_ x: UnsafePointer<Float>, ldx: Int, _ dy: UnsafePointer<Float>, ldy: Int, rows: Int,
                         dx: UnsafeMutablePointer<Float>?, lddx: Int, accumulate: Bool = false) {
        guard rows > 0, nOut > 0 else { return }
        if nIn > 0 {
            BLAS.gemm(transA: true, m: nIn, n: nOut, k: rows, a: x, lda: ldx, b: dy, ldb: ldy, beta: 1, c: dw, ldc: nOut)
        }
        // db by column blocks on both threads; each column still sums its rows in order.
        Parallel.chunks(nOut, minChunk: max(64, Linear.parallelWork / max(rows, 1))) { cols in
            for r in 0..<rows {
                let row = dy + r * ldy
                for j in cols { db[j] += row[j] }
            }
        }
        if let dx, nIn > 0 {
            BLAS.gemm(transB: true, m: rows, n: nIn, k: nOut, a: dy, lda: ldy, b: w, ldb: nOut,
                      beta: accumulate ? 1 : 0, c: dx, ldc: lddx)
        }
    }
}

/// LeakyReLU with slope 0.2, applied in place. The slope is positive, so the sign of the output equals the sign of
/// the input and the backward pass needs only the output.
public enum LeakyReLU {
    public static let slope: Float = 0.2

    public static func forward(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int) {
        for r in 0..<rows {
            let p = y + r * ld
            for j in 0..<cols { let v = p[j]; p[j] = v > 0 ? v : v * slope }
        }
    }

    /// dy *= (y > 0 ? 1 : slope), in place.
    public static func backward(_ y: UnsafePointer<Float>, ldy: Int, _ dy: UnsafeMutablePointer<Float>, ldd: Int,
                                rows: Int, cols: Int) {
        for r in 0..<rows {
            let p = y + r * ldy, d = dy + r * ldd
            for j in 0..<cols { let g = d[j]; d[j] = p[j] > 0 ? g : g * slope }
        }
    }
}
