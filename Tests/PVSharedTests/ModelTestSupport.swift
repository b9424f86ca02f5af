import Foundation
import XCTest
import PVShared

/// A tiny simulated screen with additive single-gene effects on a low-rank background, written as expr.npy +
/// split.tsv (+ genes.tsv). Singles and some doubles train; other doubles (both genes seen) are held out as test.
struct TinyScreen {
    let genes: Int, targets: Int
    var expr: [Float] = []
    var rows = 0
    var barcodes: [String] = [], conditions: [String] = [], sets: [String] = [], groups: [String] = []
    var effects: [[Float]] = []
    let targetNames: [String]
    let testDoubles: [String]

    init(genes: Int = 60, targets: Int = 6, cells: Int = 60, controls: Int = 200, seed: UInt64 = 1) {
        self.genes = genes; self.targets = targets
        var rng = RNG(seed: seed)
        var effects: [[Float]] = []
        targetNames = (0..<targets).map { "T\($0 + 1)" }
        let base = (0..<genes).map { _ in Float(0.5 + 1.5 * rng.uniform()) }
        let wbg = (0..<(2 * genes)).map { _ in rng.normal() * 0.3 }
        for _ in 0..<targets {
            var d = [Float](repeating: 0, count: genes)
            for g in rng.sample(genes, 8) { d[g] = Float(rng.uniform() < 0.5 ? -1 : 1) * Float(0.8 + 0.7 * rng.uniform()) }
            effects.append(d)
        }
        self.effects = effects
        var pairs: [(Int, Int)] = []
        for a in 0..<targets { for b in (a + 1)..<targets { pairs.append((a, b)) } }
        rng.shuffle(&pairs)
        let trainPairs = Array(pairs.prefix(3)), testPairs = Array(pairs.dropFirst(3).prefix(3))
        let names = targetNames
        testDoubles = testPairs.map { Condition.name([names[$0.0], names[$0.1]]) }
        var expr: [Float] = [], rows = 0
        var barcodes: [String] = [], conditions: [String] = [], sets: [String] = [], groups: [String] = []
        func add(_ cond: String, _ eff: [Float], _ n: Int, _ setFor: (Int) -> String, _ group: String) {
            for i in 0..<n {
                let s0 = rng.normal(), s1 = rng.normal()
                for g in 0..<genes {
                    expr.append(base[g] + wbg[2 * g] * s0 + wbg[2 * g + 1] * s1 + eff[g] + rng.normal() * 0.25)
                }
                barcodes.append("\(cond)-\(i)"); conditions.append(cond); sets.append(setFor(i)); groups.append(group)
                rows += 1
            }
        }
        let zero = [Float](repeating: 0, count: genes)
        add("ctrl", zero, controls, { i in i % 10 < 7 ? "train" : i % 10 < 8 ? "val" : "test" }, "ctrl")
        for k in 0..<targets { add(names[k], effects[k], cells, { $0 % 5 < 4 ? "train" : "val" }, "single") }
        for (a, b) in trainPairs {
            add(Condition.name([names[a], names[b]]), zip(effects[a], effects[b]).map { $0 + $1 }, cells,
                { $0 % 5 < 4 ? "train" : "val" }, "double")
        }
        for (a, b) in testPairs {
            add(Condition.name([names[a], names[b]]), zip(effects[a], effects[b]).map { $0 + $1 }, cells,
                { _ in "test" }, "double")
        }
        self.expr = expr; self.rows = rows; self.barcodes = barcodes; self.conditions = conditions
        self.sets = sets; self.groups = groups
    }

    func write(to dir: URL) throws {
        try writeNPY(dir.appendingPathComponent("expr.npy").path, expr, shape: [rows, genes])
        let split = SplitTable(barcodes: barcodes, labels: conditions, conditions: conditions, sets: sets, groups: groups)
        try split.write(dir.appendingPathComponent("split.tsv").path)
        var t = TSVTable(header: ["gene_id", "symbol"])
        t.rows = (0..<genes).map { ["G\($0 + 1)", "g\($0 + 1)"] }
        try t.write(dir.appendingPathComponent("genes.tsv").path)
    }

    /// Mean expression of the rows of `condition` in `expr`.
    static func mean(_ values: [Float], cols: Int, rows: [Int]) -> [Double] {
        var m = [Double](repeating: 0, count: cols)
        for r in rows { for j in 0..<cols { m[j] += Double(values[r * cols + j]) } }
        return m.map { $0 / Double(max(rows.count, 1)) }
    }

    static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb) }
        return sab / max((saa * sbb).squareRoot(), 1e-300)
    }
}

/// Reads a float32 .npy file into an array with its shape.
func readNPYFloats(_ path: String) throws -> ([Int], [Float]) {
    let a = try NPYArray(path: path)
    return (a.shape, a.floatArray())
}
