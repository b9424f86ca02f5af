import Foundation

/// Settings of one pv-score run.
public struct ScoreOptions {
    /// Number of top DE genes per condition (GEARS: 20).
    public var nDE = 20
    /// Genes with the highest control mean for `l2_top1000` (Ahlmann-Eltze: 1000).
    public var l2Genes = 1000
    /// Cells per side in the block metrics (discrepancy-VAE: 32).
    public var blockSize = 32
    /// The split set whose cells are the truth.
    public var set = "test"
    /// Skip (with a warning) predicted conditions that the truth lacks instead of failing.
    public var allowMissing = false
    /// Externally computed DE genes (`condition`, `genes` TSV) instead of the Welch ranking.
    public var deFile: String?
    public init() {}
}

/// Every metric of one prediction on one condition.
public struct ConditionScore {
    public let prediction: String
    public let condition: String
    public let group: String
    /// True cells of the condition in the scored set, and predicted cells.
    public let nCells: Int
    public let nPred: Int
    public let values: [ScoreMetric: Double]
}

/// Metric means over the conditions of one group (or `all`) for one prediction.
public struct GroupScore {
    public let prediction: String
    public let group: String
    public let nConditions: Int
    public let values: [ScoreMetric: Double]
}

/// The outcome of scoring: per-condition rows (by prediction, then condition), group means and the DE genes used.
public struct ScoreResult {
    public let predictions: [String]
    public let conditions: [ConditionScore]
    public let groups: [GroupScore]
    public let de: [String: [Int]]
    public let geneNames: [String]
}

/// pv-score's computation (DESIGN.md §6): truth from `expr.npy` + `split.tsv`, one or more predictions.
public enum Scorer {
    public static func run(expr: UnsafeBufferPointer<Float>, rows: Int, cols: Int, exprName: String,
                           split: SplitTable, geneNames: [String], predictions: [Prediction],
                           options: ScoreOptions) throws -> ScoreResult {
        try split.check(rows: rows, exprName: exprName)
        precondition(geneNames.count == cols)
        guard options.nDE >= 1 else { throw PVError.usage("--n-de must be at least 1") }
        guard options.l2Genes >= 1 else { throw PVError.usage("--l2-genes must be at least 1") }
        guard options.blockSize >= 2 else { throw PVError.usage("--block-size must be at least 2") }
        var names = Set<String>()
        for p in predictions where !names.insert(p.name).inserted {
            throw PVError.usage("two predictions are named '\(p.name)'; give each --pred a distinct NAME=")
        }

        // Truth: cells of the scored set per condition, in file order; the group of each condition.
        var truthRows: [String: [Int]] = [:], group: [String: String] = [:]
        var allRows: [String: [Int]] = [:]
        for r in 0..<rows {
            let c = split.conditions[r]
            allRows[c, default: []].append(r)
            if split.sets[r] == options.set && c != Condition.control {
                truthRows[c, default: []].append(r)
                if group[c] == nil { group[c] = split.groups[r].isEmpty ? "-" : split.groups[r] }
            }
        }
        guard let controlRows = allRows[Condition.control], !controlRows.isEmpty else {
            throw PVError.badInput(file: split.name, "no control cells (condition ctrl); the delta metrics and DE genes need them")
        }
        if truthRows.isEmpty { throw PVError.badInput(file: split.name, "no perturbed cells in set '\(options.set)' to score against") }

        // Conditions per prediction: those the truth has; the rest fail or are skipped.
        var scoredPerPrediction: [[String]] = []
        for p in predictions {
            var keep: [String] = [], skipped: [String] = []
            for c in p.rowsByCondition.keys.sorted() where c != Condition.control {
                if truthRows[c] != nil { keep.append(c); continue }
                guard options.allowMissing else {
                    throw PVError.badInput(file: p.tsvPath, line: p.firstLine[c],
                                           "condition \(c) has no true cells in set '\(options.set)' of \(split.name); use --allow-missing to skip it")
                }
                skipped.append(c)
            }
            if !skipped.isEmpty {
                warn("\(p.name): \(skipped.count) condition\(skipped.count == 1 ? "" : "s") without cells in set '\(options.set)' of \(split.name) skipped (--allow-missing): \(skipped.prefix(5).joined(separator: ", "))\(skipped.count > 5 ? ", ..." : "")")
            }
            let lacking = truthRows.keys.filter { p.rowsByCondition[$0] == nil }.sorted()
            if !lacking.isEmpty {
                warn("\(p.name): no predicted cells for \(lacking.count) of \(truthRows.count) conditions in set '\(options.set)' (\(lacking.prefix(5).joined(separator: ", "))\(lacking.count > 5 ? ", ..." : "")); its group means cover fewer conditions")
            }
            if keep.isEmpty { throw PVError.badInput(file: p.tsvPath, "no condition of this prediction has true cells in set '\(options.set)'") }
            scoredPerPrediction.append(keep)
        }
        let scored = Array(Set(scoredPerPrediction.flatMap { $0 })).sorted()

        // Every value that a metric reads must be finite: name the first offender.
        var checkRows = controlRows
        for c in scored { checkRows += options.deFile == nil ? (allRows[c] ?? []) : (truthRows[c] ?? []) }
        for r in Set(checkRows).sorted() {
            let x = expr.baseAddress! + r * cols
            for g in 0..<cols where !x[g].isFinite {
                throw PVError.badInput(file: exprName, "row \(r) (cell \(split.barcodes[r]), condition \(split.conditions[r])), gene \(geneNames[g]) (column \(g)): value is \(x[g])")
            }
        }
        for (i, p) in predictions.enumerated() {
            for c in scoredPerPrediction[i] { try p.checkFinite(rows: p.rowsByCondition[c]!, condition: c, geneNames: geneNames) }
        }

        let controlStats = DEGenes.stats(expr, cols: cols, rows: controlRows)
        let c = controlStats.mean

        // DE genes: from --de, or the Welch ranking on the full data (all sets), in parallel over conditions.
        var de: [String: [Int]] = [:]
        if let path = options.deFile {
            var lookup: [String: Int] = [:]
            for (j, n) in geneNames.enumerated() where lookup[n] == nil { lookup[n] = j }
            let all = try DEGenes.read(path, names: lookup)
            for cnd in scored {
                guard let d = all[cnd] else { throw PVError.badInput(file: path, "no DE genes for condition \(cnd)") }
                de[cnd] = Array(d.prefix(options.nDE))
            }
        } else {
            let n = min(options.nDE, cols)
            var lists = [[Int]](repeating: [], count: scored.count)
            lists.withUnsafeMutableBufferPointer { out in
                Parallel.chunks(scored.count) { range in
                    for k in range {
                        let st = DEGenes.stats(expr, cols: cols, rows: allRows[scored[k]]!)
                        out[k] = DEGenes.top(DEGenes.welchT(st, controlStats), n: n)
                    }
                }
            }
            for (k, cnd) in scored.enumerated() { de[cnd] = lists[k] }
        }
        let l2Genes = Array((0..<cols).sorted { c[$0] != c[$1] ? c[$0] > c[$1] : $0 < $1 }.prefix(options.l2Genes))

        // Metrics for every (prediction, condition), in parallel; one BLAS thread each.
        var tasks: [(Int, String)] = []
        for (i, conds) in scoredPerPrediction.enumerated() { for cnd in conds { tasks.append((i, cnd)) } }
        var values = [[ScoreMetric: Double]](repeating: [:], count: tasks.count)
        BLAS.setThreads(1)
        values.withUnsafeMutableBufferPointer { out in
            Parallel.chunks(tasks.count) { range in
                let ws = BlockMetrics(maxBlock: options.blockSize, cols: cols)
                for t in range {
                    let (i, cnd) = tasks[t]
                    let p = predictions[i]
                    out[t] = Score.condition(pred: p.values, predRows: p.rowsByCondition[cnd]!, truth: expr,
                                             truthRows: truthRows[cnd]!, cols: cols, control: c, de: de[cnd]!,
                                             l2Genes: l2Genes, blockSize: options.blockSize, workspace: ws)
                }
            }
        }
        BLAS.setThreads(Parallel.threads)

        let condScores = tasks.enumerated().map { t, task in
            ConditionScore(prediction: predictions[task.0].name, condition: task.1, group: group[task.1]!,
                           nCells: truthRows[task.1]!.count, nPred: predictions[task.0].rowsByCondition[task.1]!.count,
                           values: values[t])
        }
        let groupNames = ["all"] + Array(Set(condScores.map { $0.group })).sorted()
        var groups: [GroupScore] = []
        for p in predictions {
            for gname in groupNames {
                let sel = condScores.filter { $0.prediction == p.name && (gname == "all" || $0.group == gname) }
                if sel.isEmpty { continue }
                var v: [ScoreMetric: Double] = [:]
                for m in ScoreMetric.allCases { v[m] = sel.map { $0.values[m]! }.reduce(0, +) / Double(sel.count) }
                groups.append(GroupScore(prediction: p.name, group: gname, nConditions: sel.count, values: v))
            }
        }
        return ScoreResult(predictions: predictions.map { $0.name }, conditions: condScores, groups: groups,
                           de: de, geneNames: geneNames)
    }
}
