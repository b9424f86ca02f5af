import Foundation

/// Mean expression changes of the held-out doubles, true and predicted, for the scatter figures.
/// Truth as pv-score takes it: the control mean over every control cell (or set test's), a double's mean over its cells in split set
/// `set`; the single-gene means (for the interaction, a double's deviation from additive) over every cell of the
/// single condition in expr.npy.
public struct ChangeData {
    public struct HeldOutDouble {
        public var condition: String
        /// True mean change from control, per gene.
        public var trueChange: [Double]
        /// True change(A) + change(B) from the singles' cells; nil when a single has no cells.
        public var additiveTruth: [Double]?
        /// Predicted mean change per predictor name (absent when that prediction lacks the condition); the predicted
        /// mean is pv-predict's means.npy when present, else the mean of the predicted cells.
        public var predicted: [String: [Double]]
        /// Gene indices of the top DE genes (highlighted).
        public var deGenes: [Int]
    }

    public var genes: [String]
    public var doubles: [HeldOutDouble]
    /// Conditions left out, with the reason (for a note under the figures).
    public var skipped: [String]

    /// Reads truth and predictions. `predictions` are (name, path of pred.npy or its folder); `deGenes` are the
    /// names scores.json lists per condition (the top `nDE` genes by |Welch t| against control when it lists none).
    public init(exprPath: String, splitPath: String, genesPath: String?, predictions: [(name: String, path: String)],
                set: String, controlSet: String = "all", deGenes: [String: [String]], nDE: Int = 20) throws {
        let expr = try NPYArray(path: exprPath)
        let (rows, cols, values) = try expr.matrix()
        let split = try SplitTable(path: splitPath)
        try split.check(rows: rows, exprName: displayName(exprPath))
        genes = try GeneNames.resolve(explicit: genesPath, exprPath: exprPath, cols: cols)
        let geneIndex = Dictionary(genes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let controls = split.controlRows
        guard !controls.isEmpty else { throw PVError.badInput(file: split.name, "no control cells (condition 'ctrl')") }
        // c for the changes, as pv-score --control-set takes it: every control cell, or those of set test.
        let testControls = controls.filter { split.sets[$0] == "test" }
        if controlSet == "test" && testControls.isEmpty {
            throw PVError.badInput(file: split.name, "scores.json used the control cells of set test (--control-set test), but there are none")
        }
        let ctrl = Score.mean(values, cols: cols, rows: controlSet == "test" ? testControls : controls)
        let ctrlStats = DEGenes.stats(values, cols: cols, rows: controls)

        var byCondition: [String: [Int]] = [:], inSet: [String: [Int]] = [:]
        for r in 0..<split.count {
            byCondition[split.conditions[r], default: []].append(r)
            if split.sets[r] == set { inSet[split.conditions[r], default: []].append(r) }
        }
        let preds = try predictions.map { p -> Prediction in
            var path = p.path
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { path += "/pred.npy" }
            return try Prediction(spec: "\(p.name)=\(path)", cols: cols)
        }
        var singleMeans: [String: [Double]] = [:]
        func singleChange(_ g: String) -> [Double]? {
            if let m = singleMeans[g] { return m }
            guard let r = byCondition[g], !r.isEmpty else { return nil }
            let m = zip(Score.mean(values, cols: cols, rows: r), ctrl).map { $0 - $1 }
            singleMeans[g] = m
            return m
        }
        var out: [HeldOutDouble] = [], skipped: [String] = []
        let conds = inSet.keys.filter { Condition.genes($0).count == 2 }.sorted()
        for c in conds {
            let rowsC = inSet[c]!
            let truth = zip(Score.mean(values, cols: cols, rows: rowsC), ctrl).map { $0 - $1 }
            let g = Condition.genes(c)
            var add: [Double]? = nil
            if let a = singleChange(g[0]), let b = singleChange(g[1]) { add = zip(a, b).map { $0 + $1 } }
            else { skipped.append("\(c): interaction not shown, a single gene has no cells in \(displayName(exprPath))") }
            var predicted: [String: [Double]] = [:]
            for p in preds {
                guard let r = p.rowsByCondition[c], !r.isEmpty else { continue }
                try p.checkFinite(rows: r, condition: c, geneNames: genes)
                // The predicted mean as pv-score takes it: means.npy beside pred.npy when present, else the cells'.
                predicted[p.name] = zip(p.mean(c, cols: cols), ctrl).map { $0 - $1 }
            }
            if predicted.isEmpty { skipped.append("\(c): no predictor has it"); continue }
            var de = (deGenes[c] ?? []).compactMap { geneIndex[$0] }
            if de.isEmpty {
                de = DEGenes.top(DEGenes.welchT(DEGenes.stats(values, cols: cols, rows: rowsC), ctrlStats), n: nDE)
            }
            out.append(HeldOutDouble(condition: c, trueChange: truth, additiveTruth: add, predicted: predicted, deGenes: de))
        }
        doubles = out
        self.skipped = skipped
    }
}
