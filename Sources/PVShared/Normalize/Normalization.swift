import Foundation

/// Per-cell and per-gene counting, filtering and scaling on a cells x genes CSR count matrix, computed as scanpy 1.11
/// does (float64 accumulation rounded to float32 where scanpy stores float32), so results match to float rounding.
public enum Normalization {
    /// Per-cell total counts (float64 sums rounded to float32, as scanpy's `_normalize_csr`) and detected genes,
    /// counting only columns where `geneMask` is true (all when nil).
    public static func cellTotals(_ m: CSRMatrix, geneMask: [Bool]? = nil) -> (totals: [Float], detected: [Int]) {
        var totals = [Float](repeating: 0, count: m.rows)
        var detected = [Int](repeating: 0, count: m.rows)
        totals.withUnsafeMutableBufferPointer { tp in
            detected.withUnsafeMutableBufferPointer { dp in
                m.colIdx.withUnsafeBufferPointer { ci in
                    m.values.withUnsafeBufferPointer { vs in
                        let tpp = tp, dpp = dp
                        Parallel.chunks(m.rows, minChunk: 2048) { range in
                            for r in range {
                                var s = 0.0, d = 0
                                for k in m.rowPtr[r]..<m.rowPtr[r + 1] {
                                    if let g = geneMask, !g[Int(ci[k])] { continue }
                                    let v = vs[k]
                                    s += Double(v)
                                    if v > 0 { d += 1 }
                                }
                                tpp[r] = Float(s); dpp[r] = d
                            }
                        }
                    }
                }
            }
        }
        return (totals, detected)
    }

    /// Number of cells in which each gene has a positive count (scanpy `filter_genes(min_cells=)`).
    public static func cellsPerGene(_ m: CSRMatrix) -> [Int] {
        var n = [Int](repeating: 0, count: m.cols)
        for k in 0..<m.nnz where m.values[k] > 0 { n[Int(m.colIdx[k])] += 1 }
        return n
    }

    /// Size factors `total / target` in float32 (scanpy's `counts_per_cell / target_sum`).
    public static func sizeFactors(totals: [Float], target: Float) -> [Float] {
        totals.map { $0 / target }
    }

    /// Normalises and log-transforms the stored values in place: `log1p(x / sf)` in float32, with a size factor
    /// of 0 (an empty cell) treated as 1 as scanpy does.
    public static func normalizeLog1p(_ m: inout CSRMatrix, sizeFactors: [Float]) {
        let rowPtr = m.rowPtr
        m.values.withUnsafeMutableBufferPointer { vp in
            let v = vp
            Parallel.chunks(m.rows, minChunk: 1024) { range in
                for r in range {
                    let sf = sizeFactors[r] == 0 ? 1 : sizeFactors[r]
                    for k in rowPtr[r]..<rowPtr[r + 1] { v[k] = Foundation.log1p(v[k] / sf) }
                }
            }
        }
    }

    /// Per-gene mean and unbiased variance of `transform(x)` over all rows (implicit zeros included), accumulated in
    /// float64 with float32 squares as scanpy's `sparse_mean_var_minor_axis`. `transform` must map 0 to 0.
    public static func geneMeanVar(_ m: CSRMatrix, transform: (Float) -> Float) -> (mean: [Double], variance: [Double]) {
        chunkedMeanVar(m, perThread: { () }) { _, lo, hi, ci, vs, sp, qp in
            for k in m.rowPtr[lo]..<m.rowPtr[hi] {
                let x = transform(vs[k])
                let g = Int(ci[k])
                sp[g] += Double(x)
                qp[g] += Double(x * x)
            }
        }
    }

    /// Per-gene mean and unbiased variance of `transform(log1p(x / sf))`: the same numbers, bit for bit, as
    /// `normalizeLog1p` followed by `geneMeanVar(_:transform:)` (same partition, same order of additions), without
    /// writing the normalised values back (the counts stay as read, so no copy of them is made). Small integer
    /// counts, almost all of a count matrix, take log1p and the transform from a per-cell table (`CellLogTable`)
    /// instead of libm: one call per distinct count of a cell instead of two per stored value.
    public static func logNormMeanVar(_ m: CSRMatrix, sizeFactors: [Float], expm1Transform: Bool) -> (mean: [Double], variance: [Double]) {
        precondition(sizeFactors.count == m.rows)
        return chunkedMeanVar(m, perThread: { CellLogTable(expm1: expm1Transform) }) { table, lo, hi, ci, vs, sp, qp in
            for r in lo..<hi {
                table.startCell(sizeFactors[r])
                for k in m.rowPtr[r]..<m.rowPtr[r + 1] {
                    let x = table.transformed(vs[k])
                    let g = Int(ci[k])
                    sp[g] += Double(x)
                    qp[g] += Double(x * x)
                }
            }
        }
    }

    /// The scaffold both statistics share: a fixed partition of the cells into chunks (not one per thread, so the
    /// sums do not depend on --threads), each chunk's per-gene sums and sums of squares filled by `accumulate(state,
    /// rows lo..<hi, colIdx, values, sums, squares)` on zeroed buffers, `state` made once per thread by `perThread`,
    /// and the chunks combined in order.
    private static func chunkedMeanVar<State>(
        _ m: CSRMatrix, perThread: () -> State,
        accumulate: (State, Int, Int, UnsafeBufferPointer<Int32>, UnsafeBufferPointer<Float>,
                     UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    ) -> (mean: [Double], variance: [Double]) {
        let t = max(1, min(16, m.rows / 256))
        var sums = [[Double]](repeating: [], count: t)
        var sqs = [[Double]](repeating: [], count: t)
        let lock = NSLock()
        let chunk = (m.rows + t - 1) / t
        Parallel.chunks(t) { parts in
            var s = [Double](repeating: 0, count: m.cols)
            var q = [Double](repeating: 0, count: m.cols)
            let state = perThread()
            for i in parts {
                let lo = min(m.rows, i * chunk), hi = min(m.rows, lo + chunk)
                if i != parts.lowerBound {
                    s.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
                    q.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
                }
                m.colIdx.withUnsafeBufferPointer { ci in
                    m.values.withUnsafeBufferPointer { vs in
                        s.withUnsafeMutableBufferPointer { sp in
                            q.withUnsafeMutableBufferPointer { qp in accumulate(state, lo, hi, ci, vs, sp, qp) }
                        }
                    }
                }
                lock.lock(); sums[i] = s; sqs[i] = q; lock.unlock()
            }
        }
        return combineMeanVar(sums: sums, sqs: sqs, rows: m.rows, cols: m.cols)
    }

    /// Per-gene mean and unbiased variance from per-chunk sums and sums of squares, the chunks added in order (so
    /// the result does not depend on how many threads filled them).
    private static func combineMeanVar(sums: [[Double]], sqs: [[Double]], rows: Int, cols: Int) -> (mean: [Double], variance: [Double]) {
        let n = Double(rows)
        var mean = [Double](repeating: 0, count: cols)
        var variance = [Double](repeating: 0, count: cols)
        for g in 0..<cols {
            var s = 0.0, q = 0.0
            for i in 0..<sums.count { s += sums[i][g]; q += sqs[i][g] }
            mean[g] = s / n
            var v = q / n - (s / n) * (s / n)
            if rows != 1 { v *= n / (n - 1) }
            variance[g] = v
        }
        return (mean, variance)
    }
}

/// `log1p(x / sf)` (and optionally `expm1` of that) for the stored values of one cell at a time, as
/// `Normalization.normalizeLog1p` computes them (float32, a size factor of 0 read as 1), remembered per small integer
/// count: the value for count k is computed by libm the first time the cell shows k and looked up after that, which
/// gives the same float as calling libm every time. Non-integer and large values go to libm directly.
/// One per thread (it is scratch memory, not shared).
public final class CellLogTable {
    static let size = 256
    private let logs: UnsafeMutablePointer<Float>      // log1p(k / sf)
    private let outs: UnsafeMutablePointer<Float>      // the transform of logs[k]
    private let stamp: UnsafeMutablePointer<Int>       // cell number for which logs[k], outs[k] hold
    private let expm1: Bool
    private var cell = 0
    private var sf: Float = 1

    /// `expm1: true` makes `transformed` return expm1(log1p(x / sf)) (seurat's statistics), false log1p(x / sf).
    public init(expm1: Bool) {
        self.expm1 = expm1
        logs = .allocate(capacity: Self.size); outs = .allocate(capacity: Self.size)
        stamp = .allocate(capacity: Self.size)
        stamp.initialize(repeating: 0, count: Self.size)
    }

    deinit { logs.deallocate(); outs.deallocate(); stamp.deallocate() }

    /// Starts a new cell with this size factor (0, an empty cell, counts as 1).
    @inline(__always)
    public func startCell(_ sizeFactor: Float) {
        cell += 1
        sf = sizeFactor == 0 ? 1 : sizeFactor
    }

    @inline(__always)
    private func slot(_ x: Float) -> Int {
        if x < Float(Self.size) && x >= 0 {
            let k = Int(x)
            if Float(k) == x {
                if stamp[k] != cell {
                    let y = Foundation.log1p(x / sf)
                    logs[k] = y
                    outs[k] = expm1 ? Foundation.expm1(y) : y
                    stamp[k] = cell
                }
                return k
            }
        }
        return -1
    }

    /// log1p(x / sf) of the current cell.
    @inline(__always)
    public func log1p(_ x: Float) -> Float {
        let k = slot(x)
        return k >= 0 ? logs[k] : Foundation.log1p(x / sf)
    }

    /// The transform chosen at init of log1p(x / sf).
    @inline(__always)
    public func transformed(_ x: Float) -> Float {
        let k = slot(x)
        if k >= 0 { return outs[k] }
        let y = Foundation.log1p(x / sf)
        return expm1 ? Foundation.expm1(y) : y
    }
}
