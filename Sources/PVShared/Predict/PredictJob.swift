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
        seed = UInt64(o[PredictOptions.seed])
        batch = o[PredictOptions.batch]
        meanDraws = o[PredictOptions.meanDraws]
        edgeThreshold = Float(o[PredictOptions.edgeThreshold])
        conditions = o[PredictOptions.conditions]
        cellsPerCondition = o[PredictOptions.cellsPerCondition]
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
        let writer = try PredictionWriter(dir: outDir, cells: plan.cellCounts.reduce(0, +), conditions: plan.conditions.count, genes: cols)
        guard let expr = values.baseAddress else { throw PVError.badInput(file: displayName(exprPath), "no values") }
        let controlMean = Score.mean(values, cols: cols, rows: plan.controls)
        let progress = Progress("predicting", total: plan.cellCounts.reduce(0, +), unit: "cells")
        for (i, c) in plan.conditions.enumerated() {
            var (sources, rng) = plan.sources(i, seed: seed)
            var cells = [Float](repeating: 0, count: sources.count * cols)
            try cells.withUnsafeMutableBufferPointer { try model.predictor.cells(condition: c, sources: sources, expr: expr, rng: &rng, out: $0.baseAddress!) }
            var mrng = plan.meanRNG(i, seed: seed)
            let mean = try model.predictor.mean(condition: c, controls: plan.controls, expr: expr, controlMean: controlMean, rng: &mrng)
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
        try writer.commit()
        return "wrote \(writer.cellsWritten) predicted cells and the means of \(plan.conditions.count) conditions (\(mode.rawValue)) to \(outDir)"
    }
}
