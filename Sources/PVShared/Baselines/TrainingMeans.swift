import Foundation

/// Mean expression of the training cells (split set `train`) per condition: the sufficient statistics of every
/// baseline. Sums run in Double so that a Norman-scale screen (10^5 cells) loses no precision.
struct TrainingMeans {
    let cols: Int
    /// Mean of the training control cells.
    let control: [Double]
    let nControl: Int
    /// Training perturbation conditions (canonical, sorted), their cell counts and mean expression (row-major C x G).
    let conditions: [String]
    let counts: [Int]
    let means: [Double]

    init(expr: UnsafeBufferPointer<Float>, rows: Int, cols: Int, split: SplitTable) throws {
        try split.check(rows: rows, exprName: "expression matrix")
        guard expr.count == rows * cols else {
            throw PVError.badInput(file: "expression matrix", "has \(expr.count) values, expected \(rows) x \(cols)")
        }
        self.cols = cols
        var names = Set<String>()
        for r in 0..<rows where split.sets[r] == "train" && split.conditions[r] != Condition.control {
            names.insert(split.conditions[r])
        }
        let conds = names.sorted()
        var index: [String: Int] = [Condition.control: 0]
        for (i, c) in conds.enumerated() { index[c] = i + 1 }
        var sums = [Double](repeating: 0, count: (conds.count + 1) * cols)
        var n = [Int](repeating: 0, count: conds.count + 1)
        sums.withUnsafeMutableBufferPointer { s in
            for r in 0..<rows where split.sets[r] == "train" {
                guard let k = index[split.conditions[r]] else { continue }
                n[k] += 1
                let src = expr.baseAddress! + r * cols
                let dst = s.baseAddress! + k * cols
                for g in 0..<cols { dst[g] += Double(src[g]) }
            }
        }
        guard n[0] > 0 else {
            throw PVError.badInput(file: split.name, "no control cells (condition ctrl) in the training set; every baseline needs them")
        }
        for k in 0...conds.count {
            let inv = 1 / Double(n[k])
            for g in 0..<cols {
                sums[k * cols + g] *= inv
                if !sums[k * cols + g].isFinite {
                    let what = k == 0 ? Condition.control : conds[k - 1]
                    throw PVError.badInput(file: "expression matrix", "non-finite expression in the training cells of \(what) (gene column \(g))")
                }
            }
        }
        control = Array(sums[0..<cols])
        nControl = n[0]
        conditions = conds
        counts = Array(n[1...])
        means = Array(sums[cols...])
    }

    /// Mean change from control of training condition `k` (index into `conditions`).
    func change(_ k: Int) -> [Double] {
        (0..<cols).map { means[k * cols + $0] - control[$0] }
    }
}
