import Foundation

/// One pv-predict run: a model, the expression matrix and split it predicts from, the output folder and the
/// settings. `run()` reads, predicts every planned condition and commits pred/means (and --latents, --graph) together.
public struct PredictJob {
    public var modelPath: String
    public var exprPath: String
    public var splitPath: String
    /// The folder of pred.npy, pred.tsv, means.npy and means.tsv.
    public var outDir: String
    public var mode = PredictOptions.mode.defaultValue
    /// How --predict interaction weighs the interaction term.
    public var shrink = PredictOptions.shrink.defaultValue
    public var seed = UInt64(PredictOptions.seed.defaultValue)
    /// Cells per forward pass.
    public var batch = PredictOptions.batch.defaultValue
    /// Noise draws per training control cell for a pvae model's means.npy.
    public var meanDraws = PredictOptions.meanDraws.defaultValue
    /// Comma-separated conditions; nil: the test conditions of split.tsv.
    public var conditions = PredictOptions.conditions.defaultValue
    /// Cells per condition; nil: as many as the truth has.
    public var cellsPerCondition = PredictOptions.cellsPerCondition.defaultValue
    /// Where the posterior latents (TSV) and the learned graph go; nil: not written.
    public var latentsPath = PredictOptions.latents.defaultValue
    public var graphPath = PredictOptions.graph.defaultValue
    /// |Λ_νν| above which an entry is an edge in the graph.
    public var edgeThreshold = Float(PredictOptions.edgeThreshold.defaultValue)

    public init(modelPath: String, exprPath: String, splitPath: String, outDir: String) {
        self.modelPath = modelPath; self.exprPath = exprPath; self.splitPath = splitPath; self.outDir = outDir
    }

    /// The run a parsed pv-predict command line asks for (model.npz expr.npy split.tsv); every output checked distinct.
    public init(_ o: Options) throws {
        guard o.positionals.count == 3 else {
            throw PVError.usage("expected 3 input arguments, model.npz expr.npy split.tsv (usage: \(PredictOptions.synopsis))")
        }
        let outDir = try o.required(PredictOptions.out)
        if outDir == "-" { throw PVError.usage("--out must be a folder; pred.npy and pred.tsv cannot go to stdout ('-')") }
        self.init(modelPath: o.positionals[0], exprPath: o.positionals[1], splitPath: o.positionals[2], outDir: outDir)
        latentsPath = o[PredictOptions.latents]
        graphPath = o[PredictOptions.graph]
        if latentsPath == "-" && graphPath == "-" {
            throw PVError.usage("only one output can go to stdout ('-'), not --latents and --graph")
        }
        try OutputSet.requireDistinct(["pred.npy", "pred.tsv", "means.npy", "means.tsv"].map { ("--out DIR's \($0)", outDir + "/" + $0) }
                                      + [("--latents", latentsPath), ("--graph", graphPath)].filter { $0.1 != "-" })
        mode = o[PredictOptions.mode]
        shrink = o[PredictOptions.shrink]
        seed = UInt64(o[PredictOptions.seed])
        batch = o[PredictOptions.batch]
        meanDraws = o[PredictOptions.meanDraws]
        edgeThreshold = Float(o[PredictOptions.edgeThreshold])
        conditions = o[PredictOptions.conditions]
        cellsPerCondition = o[PredictOptions.cellsPerCondition]
    }

    /// The `--predict interaction` predictor of a pvae model: weights fitted on the validation doubles (--shrink val),
    /// else empirical Bayes; one member: plain additive. What was chosen goes to stderr and into `notes`.
    func interactionPredictor(_ model: LoadedModel, values: UnsafeBufferPointer<Float>, rows: Int, cols: Int,
                              split: SplitTable, plan: PredictionPlan, controlMean: [Double],
                              notes: inout [String]) throws -> InteractionPredictor {
        let additive = try Baselines.train(kind: .additive, expr: values, rows: rows, cols: cols, split: split, genes: model.file.genes)
        let ip = InteractionPredictor(members: model.members, additive: additive, controls: plan.controls,
                                      controlMean: controlMean, expr: values.baseAddress!, seed: seed)
        if model.members.count == 1 {
            warn("--predict interaction with a 1-member model: no member disagreement to shrink by, predicting plain additive for combinations (train with --ensemble 3)")
            ip.weights = .fitted(kappa: 1, lambda: 0)
            notes.append("interaction: plain additive (1 member)")
        } else if shrink == .val {
            if let w = try ip.fitOnValidation(split: split, cols: cols) {
                ip.weights = .fitted(kappa: w.kappa, lambda: w.lambda)
                let text = String(format: "kappa %.6g, lambda %.6g", w.kappa, w.lambda)
                info("--shrink val: \(text), fitted on \(w.doubles.count) validation double(s)")
                notes.append("interaction: shrink val, \(text), fitted on \(w.doubles.count) validation double(s): \(w.doubles.joined(separator: ","))")
            } else {
                warn("--shrink val: no validation doubles (set val) in \(displayName(splitPath)); using empirical-Bayes shrinkage (--shrink eb); make some with pv-split --val-doubles 0.3")
                notes.append("interaction: shrink eb (no validation doubles)")
            }
        } else {
            notes.append("interaction: shrink eb")
        }
        return ip
    }

    /// Predicts and writes every output; returns the summary line.
    public func run() throws -> String {
        let (rows, cols, values) = try NPYArray(path: exprPath).matrix()
        let split = try SplitTable(path: splitPath)
        try split.check(rows: rows, exprName: displayName(exprPath))
        let model = try LoadedModel(path: modelPath, cols: cols, exprPath: exprPath, batch: batch, mode: mode, meanDraws: meanDraws)
        if model.pvae == nil {
            for (opt, path) in [("latents", latentsPath), ("graph", graphPath)] where path != nil {
                throw PVError.usage("--\(opt) needs a pvae model (\(model.name) is kind \(model.file.kind))")
            }
        }
        let plan = try PredictionPlan(split: split, known: Set(model.file.targets), list: conditions,
                                      fixedCells: cellsPerCondition, modelName: model.name,
                                      hint: "see the known targets with: pv-predict --list-targets \(modelPath)")
        try plan.requireMemory(genes: cols, fixedCells: cellsPerCondition)

        // Every cell the predictions start from (and, with --latents, every cell encoded) must be finite: NaN there
        // gave exit 0 and an all-NaN pred.npy.
        let barcode = { (r: Int) in split.barcodes[r] }
        try FiniteValues.require(values, cols: cols, rows: plan.controls, file: displayName(exprPath),
                                 what: "the control cells predictions start from", label: barcode)
        if latentsPath != nil, let p = model.pvae {
            let encoded = (0..<split.count).filter { if case .success = p.targets(of: split.conditions[$0]) { return true } else { return false } }
            try FiniteValues.require(values, cols: cols, rows: encoded, file: displayName(exprPath), what: "the cells --latents encodes", label: barcode)
        }
        guard let expr = values.baseAddress else { throw PVError.badInput(file: displayName(exprPath), "no values") }
        let controlMean = Score.mean(values, cols: cols, rows: plan.controls)
        var predictor = model.predictor
        var notes: [String] = []
        if mode == .interaction && !model.members.isEmpty {
            let ip = try interactionPredictor(model, values: values, rows: rows, cols: cols, split: split, plan: plan,
                                              controlMean: controlMean, notes: &notes)
            predictor = ip
        }
        let writer = try PredictionWriter(dir: outDir, cells: plan.cellCounts.reduce(0, +), conditions: plan.conditions.count, genes: cols)
        writer.notes = notes
        let progress = Progress("predicting", total: plan.cellCounts.reduce(0, +), unit: "cells")
        for (i, c) in plan.conditions.enumerated() {
            var (sources, rng) = plan.sources(i, seed: seed)
            var cells = [Float](repeating: 0, count: sources.count * cols)
            try cells.withUnsafeMutableBufferPointer { try predictor.cells(condition: c, sources: sources, expr: expr, rng: &rng, out: $0.baseAddress!) }
            var mrng = plan.meanRNG(i, seed: seed)
            let mean = try predictor.mean(condition: c, controls: plan.controls, expr: expr, controlMean: controlMean, rng: &mrng)
            try writer.append(condition: c, cells: cells, barcodes: sources.map { split.barcodes[$0] }, mean: mean)
            progress.advance(sources.count)
        }
        progress.finish()

        if let path = latentsPath, let p = model.pvae {
            try writer.extra(path, label: "--latents", text: Interpretability.latentsTSV(p, split: split, expr: expr))
        }
        if let path = graphPath, let p = model.pvae {
            try writer.extra(path, label: "--graph", text: Interpretability.graphTSV(p, targets: model.file.targets, threshold: edgeThreshold))
        }
        if let ip = predictor as? InteractionPredictor, !ip.fallbacks.isEmpty {
            warn("--predict interaction: \(ip.fallbacks.count) condition(s) with a gene that has no training single are the ensemble's own prediction (e.g. \(ip.fallbacks.prefix(3).joined(separator: ", ")))")
        }
        try writer.commit()
        // --predict applies to PerturbedVAE models; a baseline's cells are its control cells shifted by its change.
        let how = model.members.isEmpty ? "baseline \(model.file.kind)" : mode.rawValue
        return "wrote \(writer.cellsWritten) predicted cells and the means of \(plan.conditions.count) conditions (\(how)) to \(outDir)"
    }
}
