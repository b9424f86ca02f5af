import Foundation

/// The pair of AnnData stores cell-eval compares: `real.zarr` (the true cells of the predicted conditions in split
/// set `set`, plus every control cell) and one `NAME.zarr` per prediction (its predicted cells plus the same control
/// cells), each with obs `target` (the condition; controls `controlLabel`) and `group`, and gene names as var names.
/// cell-eval's pseudobulk deltas then use the control mean pv-score uses. Its input check rejects negative values,
/// and log-expression cannot be negative: predicted values below 0 are clamped to 0, with a warning.
public struct CellEvalExport {
    public var controlLabel = "non-targeting"
    public var set = ExportOptions.set.defaultValue
    public var writer = AnnDataZarr()

    public init() {}

    /// `predictions` are (name, pred.npy or the folder holding it). Returns the stores, uncommitted, real first.
    public func run(exprPath: String, splitPath: String, predictions specs: [(name: String, path: String)],
                    outDir: String) throws -> [OutputFolder] {
        guard !specs.isEmpty else { throw PVError.usage("give at least one --pred NAME=PRED_DIR") }
        guard !controlLabel.isEmpty else { throw PVError.usage("--control-label must not be empty") }
        var names = Set<String>()
        for (name, _) in specs {
            guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), name != "real" else {
                throw PVError.usage("--pred NAME must be a plain name other than 'real' (the store is NAME.zarr beside real.zarr), got '\(name)'")
            }
            guard names.insert(name).inserted else { throw PVError.usage("--pred name '\(name)' given twice") }
        }
        let (rows, cols, values) = try NPYArray(path: exprPath).matrix()
        let split = try SplitTable(path: splitPath)
        try split.check(rows: rows, exprName: displayName(exprPath))
        let genes: DataFrame
        if let g = GeneNames.besideExpr(exprPath) { genes = try ExpressionExport.geneFrame(g, cols: cols) } else {
            warn("no genes.tsv beside \(displayName(exprPath)): var names are gene0, gene1, ...")
            genes = DataFrame(indexName: "gene", index: (0..<cols).map { "gene\($0)" })
        }
        let predictions = try specs.map { spec -> Prediction in
            var isDir: ObjCBool = false
            let npy = FileManager.default.fileExists(atPath: spec.path, isDirectory: &isDir) && isDir.boolValue ? spec.path + "/pred.npy" : spec.path
            return try Prediction(spec: spec.name + "=" + npy, cols: cols)
        }

        // The conditions: those of the first prediction, which every other must share (cell-eval compares
        // perturbation sets exactly), each with true cells in the split set.
        let first = predictions[0]
        let conditions = first.rowsByCondition.keys.sorted()
        for p in predictions {
            if p.rowsByCondition[Condition.control] != nil {
                throw PVError.badInput(file: p.tsvPath, line: p.firstLine[Condition.control], "predicts control cells; the control cells of every store come from expr.npy")
            }
            if let c = Set(conditions).subtracting(p.rowsByCondition.keys).min() {
                throw PVError.badInput(file: p.tsvPath, "does not predict \(c), which \(first.name) predicts; cell-eval needs the same conditions in every prediction")
            }
            if let c = Set(p.rowsByCondition.keys).subtracting(conditions).min() {
                throw PVError.badInput(file: p.tsvPath, line: p.firstLine[c], "predicts \(c), which \(first.name) does not; cell-eval needs the same conditions in every prediction")
            }
        }
        var group: [String: String] = [:]
        for r in 0..<split.count where split.sets[r] == set.rawValue && group[split.conditions[r]] == nil { group[split.conditions[r]] = split.groups[r] }
        for c in conditions where group[c] == nil {
            throw PVError.badInput(file: first.tsvPath, line: first.firstLine[c], "condition \(c) has no cells in set '\(set)' of \(split.name) to compare with")
        }
        if conditions.contains(controlLabel) {
            throw PVError.usage("--control-label '\(controlLabel)' is also the name of a predicted condition")
        }
        let unpredicted = Set(group.keys).subtracting(conditions).subtracting([Condition.control]).sorted()
        if !unpredicted.isEmpty {
            warn("\(unpredicted.count) condition(s) of set '\(set)' are not predicted and left out of real.zarr: \(unpredicted.prefix(5).joined(separator: ", "))\(unpredicted.count > 5 ? ", ..." : "")")
        }
        let controls = split.controlRows
        guard !controls.isEmpty else { throw PVError.badInput(file: split.name, "no control cells (condition 'ctrl'): cell-eval measures every change from them") }

        // Values: finite everywhere, never negative (clamped with a warning).
        let x = values.baseAddress!
        let predicted = Set(conditions)
        let realRows = (0..<rows).filter { split.conditions[$0] == Condition.control || (split.sets[$0] == set.rawValue && predicted.contains(split.conditions[$0])) }
        try checkValues(x, rows: realRows, genes: genes.index, name: displayName(exprPath))
        for p in predictions { try checkValues(p.values.baseAddress!, rows: p.rowsByCondition.values.flatMap { $0 }, genes: genes.index, name: p.npyPath) }
        // obs of each store: real cells (control or of a predicted condition, in expr.npy order); then the control
        // cells followed by the predicted cells (in pred.npy order) of each prediction.
        let ctrlTarget = [String](repeating: controlLabel, count: controls.count)
        let ctrlGroup = [String](repeating: "control", count: controls.count)
        var real = DataFrame(indexName: "barcode", index: realRows.map { split.barcodes[$0] })
        real.set("target", .strings(realRows.map { split.conditions[$0] == Condition.control ? controlLabel : split.conditions[$0] }))
        real.set("group", .strings(realRows.map { split.conditions[$0] == Condition.control ? "control" : group[split.conditions[$0]]! }))
        let predRows = predictions.map { $0.rowsByCondition.values.flatMap { $0 }.sorted() }
        let predObs = predictions.indices.map { k -> DataFrame in
            let p = predictions[k]
            let condition = p.rowsByCondition.reduce(into: [Int: String]()) { m, e in for r in e.value { m[r] = e.key } }
            var obs = DataFrame(indexName: "cell", index: controls.map { split.barcodes[$0] } + predRows[k].map { "\(p.name)-\($0)" })
            obs.set("target", .strings(ctrlTarget + predRows[k].map { condition[$0]! }))
            obs.set("group", .strings(ctrlGroup + predRows[k].map { group[condition[$0]!]! }))
            return obs
        }

        // A folder made here is removed again when writing fails (it is then empty: no store was committed).
        let made = !FileManager.default.fileExists(atPath: outDir)
        try ensureDirectory(outDir)
        var stores: [OutputFolder] = []
        do {
            stores.append(try writer.write(outDir + "/real.zarr", rows: realRows.count, cols: cols, obs: real, var: genes) { i, dst in
                let src = x + realRows[i] * cols
                for j in 0..<cols { dst[j] = max(src[j], 0) }
            })
            for (k, p) in predictions.enumerated() {
                let pv = p.values.baseAddress!, nc = controls.count, pr = predRows[k]
                stores.append(try writer.write(outDir + "/\(p.name).zarr", rows: nc + pr.count, cols: cols, obs: predObs[k], var: genes) { i, dst in
                    let src = i < nc ? x + controls[i] * cols : pv + pr[i - nc] * cols
                    for j in 0..<cols { dst[j] = max(src[j], 0) }
                })
            }
        } catch {
            for s in stores { s.abandon() }
            if made { rmdir(outDir) }
            throw error
        }
        return stores
    }

    /// Fails on a non-finite value; warns with the count and the smallest value when some are negative.
    func checkValues(_ x: UnsafePointer<Float>, rows: [Int], genes: [String], name: String) throws {
        var negative = 0, lowest: Float = 0
        let cols = genes.count
        for r in rows {
            let v = x + r * cols
            for j in 0..<cols {
                guard v[j].isFinite else {
                    throw PVError.badInput(file: name, "row \(r), gene \(genes[j]) (column \(j)): value is \(v[j]); cell-eval needs finite values")
                }
                if v[j] < 0 { negative += 1; lowest = min(lowest, v[j]) }
            }
        }
        if negative > 0 {
            warn("\(name): \(negative) negative value(s) (lowest \(lowest)) clamped to 0: log-expression is never negative, and cell-eval rejects it")
        }
    }
}
