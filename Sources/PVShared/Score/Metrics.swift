import Foundation

/// The metrics of DESIGN.md §6, in report order, and which direction is better.
public enum ScoreMetric: String, CaseIterable, Sendable {
    case r2, r2_dvae, rmse_norm, mmd, mse, mse_de, pearson_delta, pearson_delta_de, l2_top1000, direction_de

    /// True for agreement scores (r2, Pearson, direction), false for errors and distances.
    public var higherIsBetter: Bool {
        switch self {
        case .r2, .r2_dvae, .pearson_delta, .pearson_delta_de, .direction_de: return true
        case .rmse_norm, .mmd, .mse, .mse_de, .l2_top1000: return false
        }
    }
}

/// Scalar formulas shared by the metrics.
public enum Score {
    /// sklearn `r2_score(y_true=truth, y_pred=prediction)`: 1 − SS_res / SS_tot; when `truth` is constant,
    /// 1 for a perfect prediction and 0 otherwise (sklearn's force_finite).
    public static func r2(truth: [Double], prediction: [Double]) -> Double {
        let n = Double(truth.count)
        let m = truth.reduce(0, +) / n
        var res = 0.0, tot = 0.0
        for i in truth.indices {
            let d = truth[i] - prediction[i]; res += d * d
            let e = truth[i] - m; tot += e * e
        }
        if tot == 0 { return res == 0 ? 1 : 0 }
        return 1 - res / tot
    }

    /// Pearson correlation over `idx` (all when nil) of a and b; 0 when undefined (constant input), as GEARS.
    public static func pearson(_ a: [Double], _ b: [Double], _ idx: [Int]? = nil) -> Double {
        let ix = idx ?? Array(a.indices)
        let n = Double(ix.count)
        guard n > 1 else { return 0 }
        var ma = 0.0, mb = 0.0
        for i in ix { ma += a[i]; mb += b[i] }
        ma /= n; mb /= n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in ix { let x = a[i] - ma, y = b[i] - mb; sab += x * y; saa += x * x; sbb += y * y }
        let den = (saa * sbb).squareRoot()
        return den > 0 ? sab / den : 0
    }

    /// Mean of the rows `rows` of a row-major matrix, in Double.
    public static func mean(_ m: UnsafeBufferPointer<Float>, cols: Int, rows: [Int]) -> [Double] {
        var acc = [Double](repeating: 0, count: cols)
        let base = m.baseAddress!
        acc.withUnsafeMutableBufferPointer { a in
            for r in rows { let x = base + r * cols; for g in 0..<cols { a[g] += Double(x[g]) } }
            let inv = 1 / Double(max(rows.count, 1))
            for g in 0..<cols { a[g] *= inv }
        }
        return acc
    }

    /// Every metric of one condition for one prediction. `predRows` index `pred`, `truthRows` index `truth`
    /// (both in their cell order); `control` is c, `de` the DE genes, `l2Genes` the highest-control-mean genes.
    public static func condition(pred: UnsafeBufferPointer<Float>, predRows: [Int], truth: UnsafeBufferPointer<Float>,
                                 truthRows: [Int], cols: Int, control c: [Double], de: [Int], l2Genes: [Int],
                                 blockSize: Int, workspace: BlockMetrics) -> [ScoreMetric: Double] {
        let muHat = mean(pred, cols: cols, rows: predRows)
        let mu = mean(truth, cols: cols, rows: truthRows)
        var v: [ScoreMetric: Double] = [:]
        v[.r2] = r2(truth: mu, prediction: muHat)
        var mse = 0.0
        for g in 0..<cols { let d = muHat[g] - mu[g]; mse += d * d }
        v[.mse] = mse / Double(cols)
        var mseDE = 0.0
        for g in de { let d = muHat[g] - mu[g]; mseDE += d * d }
        v[.mse_de] = mseDE / Double(de.count)
        let dHat = (0..<cols).map { muHat[$0] - c[$0] }, dTrue = (0..<cols).map { mu[$0] - c[$0] }
        v[.pearson_delta] = pearson(dHat, dTrue)
        v[.pearson_delta_de] = pearson(dHat, dTrue, de)
        var l2 = 0.0
        for g in l2Genes { let d = muHat[g] - mu[g]; l2 += d * d }
        v[.l2_top1000] = l2.squareRoot()
        var agree = 0
        for g in de where sign(dHat[g]) == sign(dTrue[g]) { agree += 1 }
        v[.direction_de] = Double(agree) / Double(de.count)
        // Blocks of `blockSize` cells per side in order; one smaller block when either side is short.
        let m = min(predRows.count, truthRows.count)
        let nb = m / blockSize
        let blocks = nb > 0 ? (0..<nb).map { ($0 * blockSize, ($0 + 1) * blockSize) } : [(0, m)]
        var r2d = 0.0, rmse = 0.0, mmd = 0.0
        let pb = pred.baseAddress!, tb = truth.baseAddress!
        for (lo, hi) in blocks {
            let p = (lo..<hi).map { UnsafePointer(pb + predRows[$0] * cols) }
            let t = (lo..<hi).map { UnsafePointer(tb + truthRows[$0] * cols) }
            let r = workspace.compute(pred: p, truth: t)
            r2d += r.r2dvae; rmse += r.rmse; mmd += r.mmd
        }
        let nbk = Double(blocks.count)
        v[.r2_dvae] = r2d / nbk; v[.rmse_norm] = rmse / nbk; v[.mmd] = mmd / nbk
        return v
    }

    @inline(__always) static func sign(_ x: Double) -> Int { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}
