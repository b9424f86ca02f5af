import Foundation

/// Highly variable gene selection as scanpy 1.11 `pp.highly_variable_genes(flavor=..., n_top_genes=...)` computes it
/// for one batch: per-gene mean and dispersion, dispersion normalised within mean bins, then the top genes.
public enum HVG {
    public enum Flavor: String, CaseIterable { case seurat, cell_ranger }

    /// Per-gene results, in the order of the input genes.
    public struct Result {
        /// `means` as scanpy reports them (seurat: log1p of the mean of expm1(x); cell_ranger: mean of x).
        public var means: [Double]
        /// `dispersions` as scanpy reports them (seurat: log(var/mean), NaN where var is 0; cell_ranger: var/mean).
        public var dispersions: [Double]
        public var dispersionsNorm: [Double]
        public var highlyVariable: [Bool]
    }

    /// Turns raw per-gene mean and unbiased variance (of expm1(x) for seurat, of x for cell_ranger) into scanpy's
    /// reported means and dispersions.
    public static func meansAndDispersions(mean rawMean: [Double], variance: [Double], flavor: Flavor) -> ([Double], [Double]) {
        var means = rawMean, disp = [Double](repeating: 0, count: rawMean.count)
        for g in means.indices {
            if means[g] == 0 { means[g] = 1e-12 }
            disp[g] = variance[g] / means[g]
            if flavor == .seurat {
                if disp[g] == 0 { disp[g] = .nan }
                disp[g] = disp[g] < 0 ? .nan : Foundation.log(disp[g])
                means[g] = Foundation.log1p(means[g])
            }
        }
        return (means, disp)
    }

    /// Normalised dispersions and the selection. `nTop == nil` selects nothing (no selection was asked for).
    public static func select(means: [Double], dispersions: [Double], flavor: Flavor, nBins: Int = 20, nTop: Int?) -> Result {
        let n = means.count
        let bins: [Int]
        switch flavor {
        case .seurat: bins = equalWidthBins(means, nBins: nBins)
        case .cell_ranger: bins = percentileBins(means)
        }
        let nb = (bins.max() ?? -1) + 1
        var avg = [Double](repeating: .nan, count: nb), dev = [Double](repeating: .nan, count: nb)
        var members = [[Double]](repeating: [], count: nb)
        for g in 0..<n where !dispersions[g].isNaN { members[bins[g]].append(dispersions[g]) }
        for b in 0..<nb {
            let xs = members[b]
            switch flavor {
            case .seurat:
                // pandas groupby mean (Kahan-compensated) and std (Welford, ddof 1) over non-NaN values.
                if !xs.isEmpty {
                    var sum = 0.0, comp = 0.0
                    for x in xs { let y = x - comp; let t = sum + y; comp = t - sum - y; sum = t }
                    avg[b] = sum / Double(xs.count)
                }
                if xs.count > 1 {
                    var mean = 0.0, m2 = 0.0, k = 0.0
                    for x in xs { k += 1; let old = mean; mean += (x - old) / k; m2 += (x - mean) * (x - old) }
                    dev[b] = (m2 / (k - 1)).squareRoot()
                }
                // A bin holding a single gene (std NaN): scanpy sets dev = avg, avg = 0, i.e. normalised dispersion 1.
                if dev[b].isNaN { dev[b] = avg[b]; avg[b] = 0 }
            case .cell_ranger:
                if !xs.isEmpty {
                    let med = Stats.median(xs)
                    avg[b] = med
                    dev[b] = Stats.median(xs.map { Swift.abs($0 - med) / 0.6744897501960817 })
                }
            }
        }
        var norm = [Double](repeating: .nan, count: n)
        for g in 0..<n { norm[g] = (dispersions[g] - avg[bins[g]]) / dev[bins[g]] }
        var hv = [Bool](repeating: false, count: n)
        if let nTop, n > 0 {
            var finite = norm.filter { !$0.isNaN }
            if !finite.isEmpty {
                finite.sort(by: >)
                let k = min(max(nTop, 1), n, finite.count)
                let cut = finite[k - 1]
                for g in 0..<n {
                    // np.nan_to_num(x, nan=-inf): NaN -> -inf, +-inf -> +-largest finite.
                    var x = norm[g]
                    if x.isNaN { x = -.infinity } else if x == .infinity { x = .greatestFiniteMagnitude }
                    else if x == -.infinity { x = -.greatestFiniteMagnitude }
                    hv[g] = x >= cut
                }
            }
        }
        return Result(means: means, dispersions: dispersions, dispersionsNorm: norm, highlyVariable: hv)
    }

    /// pandas `cut(x, nBins)`: equal-width bins over [min, max], the first edge lowered by 0.1% of the range;
    /// intervals closed on the right. Returns the bin of each value.
    public static func equalWidthBins(_ x: [Double], nBins: Int) -> [Int] {
        guard var mn = x.min(), var mx = x.max() else { return [] }
        var edges = [Double](repeating: 0, count: nBins + 1)
        if mn == mx {
            mn -= mn != 0 ? 0.001 * Swift.abs(mn) : 0.001
            mx += mx != 0 ? 0.001 * Swift.abs(mx) : 0.001
            edges = linspace(mn, mx, nBins + 1)
        } else {
            edges = linspace(mn, mx, nBins + 1)
            edges[0] -= (mx - mn) * 0.001
        }
        return x.map { searchsortedLeft(edges, $0) - 1 }
    }

    /// scanpy's cell_ranger bins: edges -inf, the 10th, 15th, ..., 100th percentiles of the means, +inf
    /// (duplicate edges dropped, where scanpy itself would stop with an error).
    public static func percentileBins(_ x: [Double]) -> [Int] {
        let s = x.sorted()
        var edges: [Double] = [-.infinity]
        for q in stride(from: 10, through: 100, by: 5) { edges.append(percentile(s, Double(q) / 100)) }
        edges.append(.infinity)
        var uniq: [Double] = []
        for e in edges where uniq.last != e { uniq.append(e) }
        if uniq.count < edges.count {
            warn("cell_ranger: \(edges.count - uniq.count) duplicate percentile bin edges merged (scanpy stops with "
                 + "'Bin edges must be unique' here; all-zero genes are the usual cause: --min-cells 1 removes them)")
        }
        return x.map { searchsortedLeft(uniq, $0) - 1 }
    }

    /// numpy `linspace(start, stop, num)` with its exact arithmetic (i * step + start, last = stop).
    static func linspace(_ start: Double, _ stop: Double, _ num: Int) -> [Double] {
        let div = Double(num - 1)
        let step = (stop - start) / div
        var y = (0..<num).map { Double($0) * step + start }
        if step == 0 { y = (0..<num).map { Double($0) / div * (stop - start) + start } }
        y[num - 1] = stop
        return y
    }

    /// numpy `percentile(sorted, q*100)` with the default linear method, on an ascending array.
    static func percentile(_ s: [Double], _ q: Double) -> Double {
        let n = s.count
        let vi = Double(n) * q + (1 + q * (1 - 1 - 1)) - 1
        var lo = Int(vi.rounded(.down))
        let gamma = vi - Double(lo)
        lo = max(0, min(lo, n - 1))
        let hi = min(lo + 1, n - 1)
        let a = s[lo], b = s[hi]
        let diff = b - a
        return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma
    }

    /// Index of the first edge >= v (numpy `searchsorted(side='left')`).
    static func searchsortedLeft(_ edges: [Double], _ v: Double) -> Int {
        var lo = 0, hi = edges.count
        while lo < hi { let mid = (lo + hi) / 2; if edges[mid] < v { lo = mid + 1 } else { hi = mid } }
        return lo
    }
}
