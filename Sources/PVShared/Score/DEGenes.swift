import Foundation

/// The top differentially expressed genes of a condition, as GEARS computes them (`gears/data_utils.py`,
/// `get_DE_genes`): scanpy `rank_genes_groups(method="t-test", reference=ctrl, rankby_abs=True)` on the full
/// data set, i.e. a Welch t-test of the condition's cells (every split set) against all control cells, genes
/// ranked by |t|. As in scanpy (`_rank_genes_groups.py`): variances are unbiased (ddof 1; 0 for a single cell),
/// a t that is NaN (equal means, zero variance in both groups) becomes 0, and a nonzero difference with zero
/// variance in both groups gives ±inf, ranked first. Unlike scanpy, whose argsort is not stable, ties in |t| are
/// broken by gene index (lower first), so the ranking is deterministic. Variances use two passes (scanpy's
/// one-pass E[x²] − E[x]² can leave rounding noise for constant genes).
public enum DEGenes {
    /// Per-gene mean and unbiased variance of a set of rows.
    public struct GroupStats {
        public var mean: [Double]
        public var variance: [Double]
        public var count: Int
        public init(mean: [Double], variance: [Double], count: Int) {
            self.mean = mean; self.variance = variance; self.count = count
        }
    }

    /// Mean and variance (ddof 1, 0 for a single row) of `rows` of a row-major matrix with `cols` columns.
    public static func stats(_ expr: UnsafeBufferPointer<Float>, cols: Int, rows: [Int]) -> GroupStats {
        let mean = Score.mean(expr, cols: cols, rows: rows)
        var m2 = [Double](repeating: 0, count: cols)
        let base = expr.baseAddress!
        m2.withUnsafeMutableBufferPointer { v in
            for r in rows { let x = base + r * cols; for g in 0..<cols { let d = Double(x[g]) - mean[g]; v[g] += d * d } }
            let div = rows.count > 1 ? 1 / Double(rows.count - 1) : 0
            for g in 0..<cols { v[g] *= div }
        }
        return GroupStats(mean: mean, variance: m2, count: rows.count)
    }

    /// Welch t of `group` against `reference`, per gene, with scanpy's conventions for zero variance.
    public static func welchT(_ group: GroupStats, _ reference: GroupStats) -> [Double] {
        let na = Double(group.count), nb = Double(reference.count)
        return (0..<group.mean.count).map { g in
            let diff = group.mean[g] - reference.mean[g]
            let denom = (group.variance[g] / na + reference.variance[g] / nb).squareRoot()
            if denom == 0 { return diff == 0 ? 0 : (diff > 0 ? .infinity : -.infinity) }
            let t = diff / denom
            return t.isNaN ? 0 : t
        }
    }

    /// Indices of the `n` largest |t|, ties by lower index.
    public static func top(_ t: [Double], n: Int) -> [Int] {
        let order = t.indices.sorted { abs(t[$0]) != abs(t[$1]) ? abs(t[$0]) > abs(t[$1]) : $0 < $1 }
        return Array(order.prefix(n))
    }

    /// Reads a DE table: columns `condition` and `genes` (gene names or ids, comma-separated, in rank order).
    /// `names` maps every accepted gene name or id to its column.
    public static func read(_ path: String, names: [String: Int]) throws -> [String: [Int]] {
        let t = try TSVTable(path: path)
        let cc = try t.column("condition"), gc = try t.column("genes")
        var out: [String: [Int]] = [:]
        for (i, row) in t.rows.enumerated() {
            let cond = LabelSyntax().canonical(row[cc])
            var idx: [Int] = []
            for name in row[gc].split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                guard let j = names[name] else {
                    throw PVError.badInput(file: t.name, line: t.lineNumbers[i], "gene '\(name)' of condition \(cond) is not among the expression matrix's genes")
                }
                idx.append(j)
            }
            if idx.isEmpty { throw PVError.badInput(file: t.name, line: t.lineNumbers[i], "condition \(cond) has no DE genes") }
            if out[cond] != nil { throw PVError.badInput(file: t.name, line: t.lineNumbers[i], "condition \(cond) appears twice") }
            out[cond] = idx
        }
        return out
    }

    /// The DE table as TSV text (provenance, header `condition`, `genes`), conditions sorted.
    public static func table(_ de: [String: [Int]], geneNames: [String]) -> TSVTable {
        var t = TSVTable(header: ["condition", "genes"])
        t.rows = de.keys.sorted().map { [$0, de[$0]!.map { geneNames[$0] }.joined(separator: ",")] }
        return t
    }
}
