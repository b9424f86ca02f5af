import Foundation

/// Settings of one pv-score run.
public struct ScoreSettings {
    /// Number of top DE genes per condition (GEARS: 20).
    public var nDE = ScoreOptions.nDE.defaultValue
    /// Genes with the highest control mean for `l2_top1000` (Ahlmann-Eltze: 1000).
    public var l2Genes = ScoreOptions.l2Genes.defaultValue
    /// Cells per side in the block metrics (discrepancy-VAE: 32).
    public var blockSize = ScoreOptions.blockSize.defaultValue
    /// The split set whose cells are the truth.
    public var set = ScoreOptions.set.defaultValue
    /// Skip (with a warning) predicted conditions that the truth lacks instead of failing.
    public var allowMissing = ScoreOptions.allowMissing.defaultValue
    /// Externally computed DE genes (`condition`, `genes` TSV) instead of the Welch ranking.
    public var deFile = ScoreOptions.de.defaultValue
    /// Control cells whose mean is c for the deltas.
    public var controlSet = ScoreOptions.controlSet.defaultValue
    /// The predictor the others are compared with, condition by condition (default `additive` when present).
    public var reference = ScoreOptions.reference.defaultValue
    /// Seed of the ceiling's half split and the bootstrap.
    public var seed = UInt64(ScoreOptions.seed.defaultValue)
    /// Bootstrap resamples of the paired comparison.
    public var bootstrap = 2000
    public init() {}
}

/// Every metric of one prediction (one replicate of it) on one condition.
public struct ConditionScore {
    public let prediction: String
    /// 1-based replicate of the prediction (the n-th `--pred` of this name).
    public let replicate: Int
    public let condition: String
    public let group: String
    /// True cells of the condition in the scored set, and predicted cells.
    public let nCells: Int
    public let nPred: Int
    public let values: [ScoreMetric: Double]
}

/// Metric means over the conditions of one group (or `all`) for one replicate of one prediction (means over the
/// conditions where the metric is defined), and the calibrated scores of ScoreMetric.calibrated.
public struct GroupScore {
    public let prediction: String
    public let replicate: Int
    public let group: String
    public let nConditions: Int
    public let values: [ScoreMetric: Double]
    public let calibrated: [ScoreMetric: Double]
}

/// One predictor against the reference on one metric and group: conditions where both are defined (replicates
/// averaged first), the fraction where the predictor is better (ties count half), and the mean difference
/// (predictor − reference) with its seeded percentile-bootstrap 95% interval over conditions.
public struct PairedComparison {
    public let prediction: String
    public let group: String
    public let metric: ScoreMetric
    public let nConditions: Int
    public let winRate: Double
    public let meanDifference: Double
    public let low: Double
    public let high: Double
}

/// The outcome of scoring: per-condition rows (by prediction, replicate, then condition; the `ceiling`
/// pseudo-predictor last), group scores, the paired comparison and the DE genes used.
public struct ScoreResult {
    /// Prediction names in command-line order (replicates once), then `ceiling`.
    public let predictions: [String]
    public let replicates: [String: Int]
    public let conditions: [ConditionScore]
    public let groups: [GroupScore]
    public let reference: String?
    public let paired: [PairedComparison]
    public let de: [String: [Int]]
    public let geneNames: [String]
}

/// pv-score's computation (DESIGN.md §6): truth from `expr.npy` + `split.tsv`, one or more predictions.
public enum Scorer {
    public static func run(expr: UnsafeBufferPointer<Float>, rows: Int, cols: Int, exprName: String,
                           split: SplitTable, geneNames: [String], predictions: [Prediction],
                           options: ScoreSettings) throws -> ScoreResult {
        try split.check(rows: rows, exprName: exprName)
        precondition(geneNames.count == cols)
        guard options.nDE >= 1 else { throw PVError.usage("--n-de must be at least 1") }
        guard options.l2Genes >= 1 else { throw PVError.usage("--l2-genes must be at least 1") }
        guard options.blockSize >= 2 else { throw PVError.usage("--block-size must be at least 2") }
        // Every worker holds a block workspace (BlockMetrics): 2·b·genes floats and a (2b)² Gram matrix.
        let b = CheckedSize(options.blockSize)
        try MemoryBudget.require(CheckedSize(Parallel.threads) * (4 * (2 * b * CheckedSize(cols) + 4 * b * b) + 8 * CheckedSize(cols)),
                                 for: "--block-size \(options.blockSize)")
        if predictions.contains(where: { $0.name == Scorer.ceiling }) {
            throw PVError.usage("'\(Scorer.ceiling)' is the name of pv-score's own ceiling; give the prediction another NAME=")
        }
        // Replicates: the n-th prediction of a name is its replicate n.
        var names: [String] = [], replicateOf: [Int] = [], count: [String: Int] = [:]
        for p in predictions {
            if count[p.name] == nil { names.append(p.name) }
            count[p.name, default: 0] += 1
            replicateOf.append(count[p.name]!)
        }
        if let r = options.reference, count[r] == nil {
            throw PVError.usage("--reference \(r) is not among the predictions (\(names.joined(separator: ", ")))")
        }
        let reference = options.reference ?? (count["additive"] != nil ? "additive" : nil)
        // Truth: cells of the scored set per condition, in file order; the group of each condition.
        var truthRows: [String: [Int]] = [:], group: [String: String] = [:]
        var allRows: [String: [Int]] = [:]
        for r in 0..<rows {
            let c = split.conditions[r]
            allRows[c, default: []].append(r)
            if split.sets[r] == options.set.rawValue && c != Condition.control {
                truthRows[c, default: []].append(r)
                if group[c] == nil { group[c] = split.groups[r].isEmpty ? "-" : split.groups[r] }
            }
        }
        guard let controlRows = allRows[Condition.control], !controlRows.isEmpty else {
            throw PVError.badInput(file: split.name, "no control cells (condition ctrl); the delta metrics and DE genes need them")
        }
        if truthRows.isEmpty { throw PVError.badInput(file: split.name, "no perturbed cells in set '\(options.set.rawValue)' to score against") }

        // Conditions per prediction: those the truth has; the rest fail or are skipped.
        var scoredPerPrediction: [[String]] = []
        for p in predictions {
            var keep: [String] = [], skipped: [String] = []
            for c in p.rowsByCondition.keys.sorted() where c != Condition.control {
                if truthRows[c] != nil { keep.append(c); continue }
                guard options.allowMissing else {
                    throw PVError.badInput(file: p.tsvPath, line: p.firstLine[c],
                                           "condition \(c) has no true cells in set '\(options.set.rawValue)' of \(split.name); use --allow-missing to skip it")
                }
                skipped.append(c)
            }
            if !skipped.isEmpty {
                warn("\(p.name): \(skipped.count) condition\(skipped.count == 1 ? "" : "s") without cells in set '\(options.set.rawValue)' of \(split.name) skipped (--allow-missing): \(skipped.prefix(5).joined(separator: ", "))\(skipped.count > 5 ? ", ..." : "")")
            }
            let lacking = truthRows.keys.filter { p.rowsByCondition[$0] == nil }.sorted()
            if !lacking.isEmpty {
                warn("\(p.name): no predicted cells for \(lacking.count) of \(truthRows.count) conditions in set '\(options.set.rawValue)' (\(lacking.prefix(5).joined(separator: ", "))\(lacking.count > 5 ? ", ..." : "")); its group means cover fewer conditions")
            }
            if keep.isEmpty { throw PVError.badInput(file: p.tsvPath, "no condition of this prediction has true cells in set '\(options.set.rawValue)'") }
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
        // c for the deltas: all control cells, or those of set test (--control-set test).
        var c = controlStats.mean
        if options.controlSet == .test {
            let testControls = controlRows.filter { split.sets[$0] == "test" }
            guard !testControls.isEmpty else {
                throw PVError.badInput(file: split.name, "no control cells in set test for --control-set test (split with pv-split --control-holdout)")
            }
            c = Score.mean(expr, cols: cols, rows: testControls)
        }

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
        let cAll = controlStats.mean
        let l2Genes = Array((0..<cols).sorted { cAll[$0] != cAll[$1] ? cAll[$0] > cAll[$1] : $0 < $1 }.prefix(options.l2Genes))

        // Truth means, and the interaction reference a = c + Σ_k (μ_k − c) of every combination whose single
        // genes all have cells in the data (any set).
        let truthConds = truthRows.keys.sorted()
        var mu: [String: [Double]] = [:], additive: [String: [Double]] = [:]
        for cnd in truthConds {
            mu[cnd] = Score.mean(expr, cols: cols, rows: truthRows[cnd]!)
            let genes = Condition.genes(cnd)
            guard genes.count > 1, genes.allSatisfy({ allRows[$0] != nil }) else { continue }
            var a = c
            for g in genes {
                let m = Score.mean(expr, cols: cols, rows: allRows[g]!)
                for j in 0..<cols { a[j] += m[j] - c[j] }
            }
            additive[cnd] = a
        }

        // The ceiling: half of each condition's true cells (seeded split) predicts the other half, which is its truth.
        var halves: [String: (pred: [Int], truth: [Int])] = [:]
        for cnd in truthConds where truthRows[cnd]!.count >= 2 {
            var rowsC = truthRows[cnd]!
            var rng = RNG(seed: options.seed, stream: PredictionPlan.stream(of: cnd))
            rng.shuffle(&rowsC)
            let h = rowsC.count / 2
            halves[cnd] = (Array(rowsC[..<h]), Array(rowsC[h...]))
        }

        // Tasks: every (prediction, condition), then the ceiling's conditions (prediction index = predictions.count).
        var tasks: [(Int, String)] = []
        for (i, conds) in scoredPerPrediction.enumerated() { for cnd in conds { tasks.append((i, cnd)) } }
        let ceilingConds = scored.filter { halves[$0] != nil }
        for cnd in ceilingConds { tasks.append((predictions.count, cnd)) }
        var values = [[ScoreMetric: Double]](repeating: [:], count: tasks.count)
        var muHats = [[Double]](repeating: [], count: tasks.count)
        // In parallel over tasks; BLAS inside the block metrics runs with the thread count the tool set at start.
        values.withUnsafeMutableBufferPointer { out in
            muHats.withUnsafeMutableBufferPointer { mh in
                Parallel.chunks(tasks.count) { range in
                    let ws = BlockMetrics(maxBlock: options.blockSize, cols: cols)
                    for t in range {
                        let (i, cnd) = tasks[t]
                        if i == predictions.count {
                            let h = halves[cnd]!
                            let muHat = Score.mean(expr, cols: cols, rows: h.pred)
                            mh[t] = muHat
                            out[t] = Score.condition(pred: expr, predRows: h.pred, muHat: muHat, truth: expr,
                                                     truthRows: h.truth, mu: Score.mean(expr, cols: cols, rows: h.truth),
                                                     cols: cols, control: c, de: de[cnd]!, l2Genes: l2Genes,
                                                     additive: additive[cnd], blockSize: options.blockSize, workspace: ws)
                        } else {
                            let p = predictions[i]
                            let muHat = p.mean(cnd, cols: cols)
                            mh[t] = muHat
                            out[t] = Score.condition(pred: p.values, predRows: p.rowsByCondition[cnd]!, muHat: muHat,
                                                     truth: expr, truthRows: truthRows[cnd]!, mu: mu[cnd]!, cols: cols,
                                                     control: c, de: de[cnd]!, l2Genes: l2Genes, additive: additive[cnd],
                                                     blockSize: options.blockSize, workspace: ws)
                        }
                    }
                }
            }
        }

        // pds per prediction over its scored conditions (cell-eval ranks within the evaluated set).
        for i in 0...predictions.count {
            let idx = tasks.indices.filter { tasks[$0].0 == i }
            if idx.isEmpty { continue }
            let conds = idx.map { tasks[$0].1 }
            let truthMeans = conds.map { cnd -> [Double] in
                i == predictions.count ? Score.mean(expr, cols: cols, rows: halves[cnd]!.truth) : mu[cnd]!
            }
            let trueChange = truthMeans.map { m in (0..<cols).map { m[$0] - c[$0] } }
            let predChange = idx.map { t in (0..<cols).map { Score.change(muHats[t][$0], from: c[$0]) } }
            let excluded = conds.map { cnd in geneNames.firstIndex(of: cnd) }
            let pds = Score.discrimination(predicted: predChange, truth: trueChange, excluded: excluded)
            for (k, t) in idx.enumerated() { values[t][.pds] = pds[k] }
        }

        // "No change" (μ̂ = c) per condition: the zero point of the calibrated scores.
        var noChange: [String: [ScoreMetric: Double]] = [:]
        for cnd in scored {
            noChange[cnd] = Score.meanMetrics(muHat: c, mu: mu[cnd]!, control: c, de: de[cnd]!, l2Genes: l2Genes,
                                              additive: additive[cnd])
        }

        let allNames = names + [Scorer.ceiling]
        let condScores = tasks.enumerated().map { t, task -> ConditionScore in
            let ceil = task.0 == predictions.count
            return ConditionScore(prediction: ceil ? Scorer.ceiling : predictions[task.0].name,
                                  replicate: ceil ? 1 : replicateOf[task.0], condition: task.1, group: group[task.1]!,
                                  nCells: ceil ? halves[task.1]!.truth.count : truthRows[task.1]!.count,
                                  nPred: ceil ? halves[task.1]!.pred.count : predictions[task.0].rowsByCondition[task.1]!.count,
                                  values: values[t])
        }
        let ceilingBy = Dictionary(uniqueKeysWithValues: condScores.filter { $0.prediction == Scorer.ceiling }.map { ($0.condition, $0.values) })
        let groupNames = ["all"] + Array(Set(condScores.map { $0.group })).sorted()
        var groups: [GroupScore] = []
        for name in allNames {
            for rep in 1...(name == Scorer.ceiling ? 1 : count[name]!) {
                for gname in groupNames {
                    let sel = condScores.filter { $0.prediction == name && $0.replicate == rep && (gname == "all" || $0.group == gname) }
                    if sel.isEmpty { continue }
                    var v: [ScoreMetric: Double] = [:], cal: [ScoreMetric: Double] = [:]
                    for m in ScoreMetric.allCases { v[m] = Scorer.finiteMean(sel.map { $0.values[m]! }) }
                    for m in ScoreMetric.calibrated {
                        let ok = sel.filter { s in
                            [s.values[m], noChange[s.condition]?[m], ceilingBy[s.condition]?[m]].allSatisfy { ($0 ?? .nan).isFinite }
                        }
                        let pm = Scorer.finiteMean(ok.map { $0.values[m]! })
                        let z = Scorer.finiteMean(ok.map { noChange[$0.condition]![m]! })
                        let one = Scorer.finiteMean(ok.map { ceilingBy[$0.condition]![m]! })
                        // Undefined unless the ceiling beats "no change" (few cells make the half split noisier than that).
                        cal[m] = (m.higherIsBetter ? one > z : one < z) ? (pm - z) / (one - z) : .nan
                    }
                    groups.append(GroupScore(prediction: name, replicate: rep, group: gname, nConditions: sel.count,
                                             values: v, calibrated: cal))
                }
            }
        }

        // Paired comparison with the reference, condition by condition (replicates averaged first).
        var paired: [PairedComparison] = []
        if let reference {
            func perCondition(_ name: String, _ m: ScoreMetric) -> [String: Double] {
                var acc: [String: [Double]] = [:]
                for s in condScores where s.prediction == name { acc[s.condition, default: []].append(s.values[m]!) }
                return acc.compactMapValues { v in let x = Scorer.finiteMean(v); return x.isFinite ? x : nil }
            }
            for gname in groupNames {
                for m in ScoreMetric.headline {
                    for name in names where name != reference {
                        let ref = perCondition(reference, m), mine = perCondition(name, m)
                        let conds = scored.filter { (gname == "all" || group[$0] == gname) && ref[$0] != nil && mine[$0] != nil }
                        if conds.isEmpty { continue }
                        let diff = conds.map { mine[$0]! - ref[$0]! }
                        let wins = diff.map { $0 == 0 ? 0.5 : ((m.higherIsBetter ? $0 > 0 : $0 < 0) ? 1 : 0) }.reduce(0, +)
                        var rng = RNG(seed: options.seed, stream: PredictionPlan.stream(of: "\(name)|\(gname)|\(m.rawValue)"))
                        let ci = Scorer.bootstrap(diff, resamples: options.bootstrap, rng: &rng)
                        paired.append(PairedComparison(prediction: name, group: gname, metric: m, nConditions: conds.count,
                                                       winRate: wins / Double(conds.count),
                                                       meanDifference: diff.reduce(0, +) / Double(diff.count),
                                                       low: ci.low, high: ci.high))
                    }
                }
            }
        }
        return ScoreResult(predictions: allNames, replicates: count.merging([Scorer.ceiling: 1]) { a, _ in a },
                           conditions: condScores, groups: groups, reference: reference, paired: paired,
                           de: de, geneNames: geneNames)
    }

    /// The name of the half-split pseudo-predictor.
    public static let ceiling = "ceiling"

    /// Mean of the finite values; NaN when there are none.
    public static func finiteMean(_ v: [Double]) -> Double {
        let f = v.filter { $0.isFinite }
        return f.isEmpty ? .nan : f.reduce(0, +) / Double(f.count)
    }

    /// Percentile bootstrap 95% interval of the mean of `x`: `resamples` means of n draws with replacement;
    /// the 2.5% and 97.5% points by linear interpolation between order statistics (numpy's default percentile).
    public static func bootstrap(_ x: [Double], resamples: Int, rng: inout RNG) -> (low: Double, high: Double) {
        let n = x.count
        guard n > 1, resamples > 1 else { let m = x.first ?? .nan; return (m, m) }
        var means = [Double](repeating: 0, count: resamples)
        for b in 0..<resamples {
            var s = 0.0
            for _ in 0..<n { s += x[rng.int(below: n)] }
            means[b] = s / Double(n)
        }
        means.sort()
        func q(_ p: Double) -> Double {
            let h = p * Double(resamples - 1), lo = Int(h.rounded(.down)), hi = min(lo + 1, resamples - 1)
            return means[lo] + (h - Double(lo)) * (means[hi] - means[lo])
        }
        return (q(0.025), q(0.975))
    }
}
