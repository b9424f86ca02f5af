import Foundation

/// What pv-predict predicts: the conditions, the training control cells they start from, and how many cells
/// each condition gets.
public struct PredictionPlan {
    public let conditions: [String]
    /// Rows of split.tsv's control cells of set `train` (all control cells when train has none).
    public let controls: [Int]
    /// Predicted cells per condition, parallel to `conditions`.
    public let cellCounts: [Int]

    /// Conditions from `list` (comma-separated; every gene must be in `known`) or, when nil, every test condition
    /// of `split` whose genes are all in `known` (the others are skipped with a warning). Cells per condition:
    /// `fixedCells`, else the condition's test cells, else its cells in any set, else 100.
    public init(split: SplitTable, known: Set<String>, list: String?, fixedCells: Int?, modelName: String,
                hint: String) throws {
        var conditions: [String] = []
        if let list {
            let syntax = LabelSyntax()
            for raw in list.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
                let c = try syntax.strictCanonical(raw) { PVError.usage("--conditions: \($0)") }
                if c == Condition.control { throw PVError.usage("--conditions: '\(raw)' is the control condition; nothing to predict") }
                if let g = Condition.genes(c).first(where: { !known.contains($0) }) {
                    throw PVError.usage("--conditions: gene \(g) of \(c) was not a perturbation target in training of \(modelName); \(hint)")
                }
                if !conditions.contains(c) { conditions.append(c) }
            }
            guard !conditions.isEmpty else { throw PVError.usage("--conditions is empty") }
        } else {
            var seen = Set<String>(), skipped: [String] = []
            for r in split.rows(set: "test") where split.conditions[r] != Condition.control && !seen.contains(split.conditions[r]) {
                let c = split.conditions[r]
                seen.insert(c)
                if let g = Condition.genes(c).first(where: { !known.contains($0) }) { skipped.append("\(c) (\(g))"); continue }
                conditions.append(c)
            }
            if !skipped.isEmpty {
                warn("skipping \(skipped.count) test condition(s) with a gene the model was not trained on: \(skipped.prefix(5).joined(separator: ", "))\(skipped.count > 5 ? ", ..." : ""); \(hint)")
            }
            guard !conditions.isEmpty else {
                throw PVError.badInput(file: split.name, "no test condition whose genes are all training targets of \(modelName); give --conditions (\(hint))")
            }
        }
        var controls = split.rows(set: "train", condition: Condition.control)
        if controls.isEmpty { controls = split.controlRows }
        guard !controls.isEmpty else { throw PVError.badInput(file: split.name, "no control cells (condition 'ctrl') to start predictions from") }
        if let n = fixedCells, n < 1 { throw PVError.usage("--cells-per-condition must be at least 1") }
        var test: [String: Int] = [:], any: [String: Int] = [:]
        for r in split.rows(set: "test") { test[split.conditions[r], default: 0] += 1 }
        for c in split.conditions { any[c, default: 0] += 1 }
        self.conditions = conditions
        self.controls = controls
        cellCounts = conditions.map { fixedCells ?? test[$0] ?? any[$0] ?? 100 }
    }

    /// Refuses (exit 64) a --cells-per-condition (`fixedCells`) whose predictions would not fit in memory: one
    /// condition's cells of `genes` floats (twice: the model's output and the rows written), and for every cell its
    /// source row and line of pred.tsv. `--cells-per-condition 1000000000000` aborted in an allocation.
    public func requireMemory(genes: Int, fixedCells: Int?) throws {
        guard let n = fixedCells else { return }
        let total = CheckedSize(n) * CheckedSize(conditions.count)
        try MemoryBudget.require(8 * CheckedSize(n) * CheckedSize(genes) + 64 * total, for: "--cells-per-condition \(n)")
    }

    /// FNV-1a (64 bit) of a condition's UTF-8 name: the random stream of that condition, so that its draws do not
    /// depend on which other conditions are predicted or in which order.
    public static func stream(of condition: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in condition.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    /// The control rows that condition `index`'s cells start from, and the generator for its model noise: a
    /// function of (seed, condition name) only, so every predictor run with the same --seed starts each condition
    /// from the same control cells (distribution metrics then compare like with like). Without replacement when
    /// there are enough control cells.
    public func sources(_ index: Int, seed: UInt64) -> (rows: [Int], rng: RNG) {
        var rng = RNG(seed: seed, stream: PredictionPlan.stream(of: conditions[index]))
        let n = cellCounts[index]
        let rows = n <= controls.count ? rng.sample(controls.count, n).map { controls[$0] }
                                       : (0..<n).map { _ in controls[rng.int(below: controls.count)] }
        return (rows, rng)
    }

    /// A generator for condition `index`'s predicted mean, independent of its cells' stream.
    public func meanRNG(_ index: Int, seed: UInt64) -> RNG {
        RNG(seed: seed ^ 0x6d65_616e_7321, stream: PredictionPlan.stream(of: conditions[index]))
    }
}
