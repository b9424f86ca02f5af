import Foundation
import PVShared

let description = """
Predicts cells under perturbations, including double-gene combinations never seen in training, by starting from \
real control cells of split.tsv (set 'train'; other sets when it has none). Writes DIR/pred.npy (cells x genes, \
float32, never negative), DIR/pred.tsv (row, condition, control_barcode), and each condition's predicted mean in \
DIR/means.npy (conditions x genes) with DIR/means.tsv (row, condition): for a baseline exactly (mean of the training \
controls) + predicted change, for PerturbedVAE its expectation over every training control cell. pv-score reads the \
means from there. The control cells of each condition depend only on --seed and its name, the same for every model.

Conditions: every test condition of split.tsv (those with a gene the model was not trained on are skipped with a
warning), or --conditions. A given condition with an unknown gene is an error; see the known targets with
pv-predict --list-targets model.npz.
--predict prior decodes from the condition's prior (DESIGN.md §5); --predict delta adds f(u) - f(0) to each control
cell with a common noise draw, which removes a shared control offset (much lower MSE on small screens).
Baseline models (pv-train --model control|mean|additive|linear) shift real control cells by their predicted
change (cells clamped at 0).
"""

runTool("pv-predict") {
    let o = try Options(tool: "pv-predict", synopsis: "pv-predict [options] --out DIR model.npz expr.npy split.tsv",
                        description: description, specs: [
        OptionSpec("out", short: "o", value: "DIR", help: "output folder for pred.npy and pred.tsv (created if needed)"),
        OptionSpec("conditions", value: "LIST", help: "comma-separated conditions, e.g. \"KLF1+MAP2K6,CEBPE\" [default: the test conditions of split.tsv]"),
        OptionSpec("cells-per-condition", value: "N", default: "as many as the truth has in split.tsv, else 100", help: "predicted cells per condition"),
        OptionSpec("predict", value: "prior|delta", default: "prior", help: "prior: decode from the condition's prior; delta: control cell + f(u) - f(0)"),
        OptionSpec("seed", value: "N", default: "0", help: "random seed (control cells drawn, response noise)"),
        OptionSpec("mean-draws", value: "N", default: "1", help: "noise draws per training control cell for a pvae model's means.npy"),
        OptionSpec("batch", value: "N", default: "256", help: "cells per forward pass"),
        .flag("list-targets", help: "print the perturbation targets of model.npz, one per line, and exit"),
        OptionSpec("latents", value: "FILE", help: "also write mu_inv and z_resp (posterior means) of every cell of split.tsv with known targets (TSV)"),
        OptionSpec("graph", value: "FILE", help: "also write the learned graph Lambda_resp (edges) and each target's program (TSV)"),
        OptionSpec("edge-threshold", value: "X", default: "0.25", help: "|weight| above which a Lambda_resp entry is an edge in --graph"),
    ], positionals: 1...3)

    let modelPath = o.positionals[0]
    if o.flag("list-targets") {
        for t in try ModelFile(path: modelPath).targets { print(t) }
        return
    }
    guard o.positionals.count == 3 else {
        throw PVError.usage("expected 3 input arguments, model.npz expr.npy split.tsv (usage: pv-predict [options] --out DIR model.npz expr.npy split.tsv)")
    }
    let outDir = try o.required("out")
    if outDir == "-" { throw PVError.usage("--out must be a folder; pred.npy and pred.tsv cannot go to stdout ('-')") }
    if o.string("latents") == "-" && o.string("graph") == "-" {
        throw PVError.usage("only one output can go to stdout ('-'), not --latents and --graph")
    }
    try OutputSet.requireDistinct(["pred.npy", "pred.tsv", "means.npy", "means.tsv"].map { ("--out DIR's \($0)", outDir + "/" + $0) }
                                  + [("--latents", o.string("latents")), ("--graph", o.string("graph"))].filter { $0.1 != "-" })
    let exprPath = o.positionals[1], splitPath = o.positionals[2]
    let mode = try PredictMode(rawValue: o.choice("predict", ["prior", "delta"]))!
    let seed = try o.int("seed")
    guard seed >= 0 else { throw PVError.usage("--seed must be at least 0") }
    let batch = try o.int("batch")
    guard batch >= 2 else { throw PVError.usage("--batch must be at least 2") }
    let draws = try o.int("mean-draws")
    guard draws >= 1 else { throw PVError.usage("--mean-draws must be at least 1") }
    let threshold = Float(try o.double("edge-threshold"))

    let (rows, cols, values) = try NPYArray(path: exprPath).matrix()
    let split = try SplitTable(path: splitPath)
    try split.check(rows: rows, exprName: displayName(exprPath))
    let model = try LoadedModel(path: modelPath, cols: cols, exprPath: exprPath, batch: batch, mode: mode, meanDraws: draws)
    if model.pvae == nil {
        for opt in ["latents", "graph"] where o.given(opt) {
            throw PVError.usage("--\(opt) needs a pvae model (\(model.name) is kind \(model.file.kind))")
        }
    }
    let plan = try PredictionPlan(split: split, known: Set(model.file.targets), list: o.string("conditions"),
                                  fixedCells: try o.intIfPresent("cells-per-condition"), modelName: model.name,
                                  hint: "see the known targets with: pv-predict --list-targets \(modelPath)")

    // Every cell the predictions start from (and, with --latents, every cell encoded) must be finite: NaN there
    // gave exit 0 and an all-NaN pred.npy.
    let barcode = { (r: Int) in split.barcodes[r] }
    try FiniteValues.require(values, cols: cols, rows: plan.controls, file: displayName(exprPath),
                             what: "the control cells predictions start from", label: barcode)
    if o.given("latents"), let p = model.pvae {
        let encoded = (0..<split.count).filter { if case .success = p.targets(of: split.conditions[$0]) { return true } else { return false } }
        try FiniteValues.require(values, cols: cols, rows: encoded, file: displayName(exprPath), what: "the cells --latents encodes", label: barcode)
    }
    let writer = try PredictionWriter(dir: outDir, cells: plan.cellCounts.reduce(0, +), conditions: plan.conditions.count, genes: cols)
    let expr = values.baseAddress!
    let controlMean = Score.mean(values, cols: cols, rows: plan.controls)
    let progress = Progress("predicting", total: plan.cellCounts.reduce(0, +), unit: "cells")
    for (i, c) in plan.conditions.enumerated() {
        var (sources, rng) = plan.sources(i, seed: UInt64(seed))
        var cells = [Float](repeating: 0, count: sources.count * cols)
        try cells.withUnsafeMutableBufferPointer { try model.predictor.cells(condition: c, sources: sources, expr: expr, rng: &rng, out: $0.baseAddress!) }
        var mrng = plan.meanRNG(i, seed: UInt64(seed))
        let mean = try model.predictor.mean(condition: c, controls: plan.controls, expr: expr, controlMean: controlMean, rng: &mrng)
        try writer.append(condition: c, cells: cells, barcodes: sources.map { split.barcodes[$0] }, mean: mean)
        progress.advance(sources.count)
    }
    progress.finish()

    if let path = o.string("latents"), let p = model.pvae {
        try writer.extra(path, label: "--latents", text: Interpretability.latentsTSV(p, split: split, expr: expr))
    }
    if let path = o.string("graph"), let p = model.pvae {
        try writer.extra(path, label: "--graph", text: Interpretability.graphTSV(p, targets: model.file.targets, threshold: threshold))
    }
    try writer.commit()
    info("wrote \(writer.cellsWritten) predicted cells and the means of \(plan.conditions.count) conditions (\(mode.rawValue)) to \(outDir)")
}
