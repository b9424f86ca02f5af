import Foundation

/// The metrics of DESIGN.md §6, in report order, and which direction is better.
public enum ScoreMetric: String, CaseIterable, Sendable {
    case r2, r2_dvae, rmse_norm, mmd, mse, mae, mse_de, pearson_delta, pearson_delta_de, l2_top1000, direction_de
    case pds, interaction_r2, pearson_interaction

    /// True for agreement scores (r2, Pearson, direction, discrimination), false for errors and distances.
    public var higherIsBetter: Bool {
        switch self {
        case .r2, .r2_dvae, .pearson_delta, .pearson_delta_de, .direction_de, .pds, .interaction_r2,
             .pearson_interaction: return true
        case .rmse_norm, .mmd, .mse, .mae, .mse_de, .l2_top1000: return false
        }
    }

    /// Metrics with a calibrated row in the summary: (m − m_nochange) / (m_ceiling − m_nochange).
    public static let calibrated: [ScoreMetric] = [.pearson_delta, .mse, .interaction_r2]
    /// Metrics of the paired comparison against the reference predictor.
    public static let headline: [ScoreMetric] = [.mse, .mae, .pearson_delta, .pds, .interaction_r2]
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

    /// Pearson correlation, NaN when undefined (either side constant).
    public static func pearsonOrNaN(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        guard n > 1 else { return .nan }
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices { let x = a[i] - ma, y = b[i] - mb; sab += x * y; saa += x * x; sbb += y * y }
        let den = (saa * sbb).squareRoot()
        return den > 0 ? sab / den : .nan
    }

    /// The interaction metrics of a combination with additive reference a = c + Σ_k (μ_k − c):
    /// r = μ − a, r̂ = μ̂ − a; interaction_r2 = 1 − ‖r̂ − r‖² / ‖r‖² (NaN when r = 0), pearson_interaction =
    /// corr(r̂, r) (NaN when undefined). Since r̂ − r = μ̂ − μ, interaction_r2 > 0 exactly when μ̂ is closer to μ
    /// than a is.
    public static func interaction(muHat: [Double], mu: [Double], additive a: [Double]) -> (r2: Double, pearson: Double) {
        let r = mu.indices.map { mu[$0] - a[$0] }, rHat = mu.indices.map { muHat[$0] - a[$0] }
        var num = 0.0, den = 0.0
        for g in r.indices { let d = rHat[g] - r[g]; num += d * d; den += r[g] * r[g] }
        return (den > 0 ? 1 - num / den : .nan, pearsonOrNaN(rHat, r))
    }

    /// cell-eval 0.8 `discrimination_score_l1` (metrics/_anndata.py `discrimination_score`, exclude_target_gene):
    /// for prediction k, the L1 distances over genes (without a gene named like the condition) from its predicted
    /// change to every true change of the scored set; rank = how many true changes sort before its own (ties by
    /// index, as a stable argsort), score = 1 − rank / K. 1: its own true change is the nearest; about 0.5: chance.
    public static func discrimination(predicted: [[Double]], truth: [[Double]], excluded: [Int?]) -> [Double] {
        let K = truth.count
        return (0..<K).map { k in
            let p = predicted[k]
            let d = (0..<K).map { t -> Double in
                var s = 0.0
                for g in p.indices where g != excluded[k] { s += abs(p[g] - truth[t][g]) }
                return s
            }
            let rank = (0..<K).filter { d[$0] < d[k] || (d[$0] == d[k] && $0 < k) }.count
            return 1 - Double(rank) / Double(K)
        }
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

    /// Every metric of one condition for one prediction but `pds` (which needs every condition). `predRows` index
    /// `pred`, `truthRows` index `truth` (both in their cell order); `muHat` is the predicted mean (means.npy, else
    /// the mean of the predicted cells) and `mu` the truth's; `control` is c, `de` the DE genes, `l2Genes` the
    /// highest-control-mean genes, `additive` the interaction reference a of a combination (nil otherwise).
    public static func condition(pred: UnsafeBufferPointer<Float>, predRows: [Int], muHat: [Double],
                                 truth: UnsafeBufferPointer<Float>, truthRows: [Int], mu: [Double], cols: Int,
                                 control c: [Double], de: [Int], l2Genes: [Int], additive: [Double]?,
                                 blockSize: Int, workspace: BlockMetrics) -> [ScoreMetric: Double] {
        var v = meanMetrics(muHat: muHat, mu: mu, control: c, de: de, l2Genes: l2Genes, additive: additive)
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

    /// The metrics of the means alone (all but the block metrics and `pds`).
    public static func meanMetrics(muHat: [Double], mu: [Double], control c: [Double], de: [Int], l2Genes: [Int],
                                   additive: [Double]?) -> [ScoreMetric: Double] {
        let cols = mu.count
        var v: [ScoreMetric: Double] = [:]
        v[.r2] = r2(truth: mu, prediction: muHat)
        var mae = 0.0
        for g in 0..<cols { mae += abs(muHat[g] - mu[g]) }
        v[.mae] = mae / Double(cols)
        var mse = 0.0
        for g in 0..<cols { let d = muHat[g] - mu[g]; mse += d * d }
        v[.mse] = mse / Double(cols)
        var mseDE = 0.0
        for g in de { let d = muHat[g] - mu[g]; mseDE += d * d }
        v[.mse_de] = mseDE / Double(de.count)
        let dHat = (0..<cols).map { change(muHat[$0], from: c[$0]) }, dTrue = (0..<cols).map { mu[$0] - c[$0] }
        v[.pearson_delta] = pearson(dHat, dTrue)
        v[.pearson_delta_de] = pearson(dHat, dTrue, de)
        var l2 = 0.0
        for g in l2Genes { let d = muHat[g] - mu[g]; l2 += d * d }
        v[.l2_top1000] = l2.squareRoot()
        var agree = 0
        for g in de where sign(dHat[g]) == sign(dTrue[g]) { agree += 1 }
        v[.direction_de] = Double(agree) / Double(de.count)
        if let a = additive {
            let i = interaction(muHat: muHat, mu: mu, additive: a)
            v[.interaction_r2] = i.r2; v[.pearson_interaction] = i.pearson
        } else {
            v[.interaction_r2] = .nan; v[.pearson_interaction] = .nan
        }
        return v
    }

    /// x − c, or 0 when the two agree to float32 resolution (4 ulps): a predicted mean that is the control mean
    /// written as float32 (the control baseline) has no change, not a change made of rounding noise.
    @inline(__always) public static func change(_ x: Double, from c: Double) -> Double {
        let d = x - c
        return abs(d) <= 4 * Double(Float.ulpOfOne) * max(abs(x), abs(c)) ? 0 : d
    }

    @inline(__always) static func sign(_ x: Double) -> Int { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}
