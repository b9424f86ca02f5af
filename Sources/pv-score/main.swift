import Foundation
import PVShared

runTool("pv-score") {
    let o = try Options(
        tool: "pv-score",
        synopsis: "pv-score [options] --pred NAME=DIR/pred.npy [--pred ...] expr.npy split.tsv",
        description: """
            Scores predicted cells against held-out truth (DESIGN.md §6): every metric per condition for every
            prediction, averaged per group, side by side. Truth: the cells of split set --set (default test);
            control mean and DE genes from all control cells. Each pred.tsv is read from beside its pred.npy.
            Predicted means come from means.npy beside pred.npy when present (pv-predict), else from the cells.
            Metrics: r2, r2_dvae, rmse_norm, mmd, mse, mae, mse_de, pearson_delta, pearson_delta_de, l2_top1000,
            direction_de (top-20 DE genes by |Welch t| as GEARS ranks them), pds (cell-eval's discrimination_score_l1),
            interaction_r2 and pearson_interaction (combinations: against the additive reference of their singles).
            A pseudo-predictor 'ceiling' (half of each condition's true cells predicting the other half) is scored
            beside them. The same NAME given to several --pred is one predictor with replicates (mean ± sd).
            The summary table (group means side by side, then the paired comparison with the reference) goes to
            stdout, unless an output is written there (-).
            """,
        specs: [
            OptionSpec("pred", value: "NAME=PATH", repeatable: true, help: "a prediction: name and pred.npy (pred.tsv beside it)"),
            OptionSpec("out", short: "o", value: "FILE", help: "per-condition TSV (one row per prediction and condition; - for stdout)"),
            OptionSpec("json", value: "FILE", help: "everything as JSON (per condition, per group, DE genes; - for stdout)"),
            OptionSpec("de", value: "FILE", help: "DE genes to use: TSV with columns condition, genes (comma-separated names)"),
            OptionSpec("de-out", value: "FILE", help: "write the DE genes used (same format as --de; - for stdout)"),
            OptionSpec("n-de", value: "N", default: "20", help: "DE genes per condition"),
            OptionSpec("l2-genes", value: "N", default: "1000", help: "genes with the highest control mean for l2_top1000"),
            OptionSpec("block-size", value: "N", default: "32", help: "cells per side in the rmse_norm, mmd and r2_dvae blocks"),
            OptionSpec("set", value: "NAME", default: "test", help: "split set whose cells are the truth"),
            OptionSpec("genes", value: "FILE", default: "genes.tsv beside expr.npy", help: "gene names (pv-normalize's genes.tsv)"),
            OptionSpec("control-set", value: "all|test", default: "all", help: "control cells whose mean is c for the deltas (test: pv-split --control-holdout)"),
            OptionSpec("reference", value: "NAME", default: "additive when given", help: "prediction the others are compared with, condition by condition"),
            OptionSpec("seed", value: "N", default: "0", help: "seed of the ceiling's half split and the bootstrap"),
            .flag("allow-missing", help: "skip predicted conditions that have no true cells instead of failing"),
        ],
        positionals: 2...2)
    let exprPath = o.positionals[0], splitPath = o.positionals[1]
    let toStdout = ["out", "json", "de-out"].filter { o.string($0) == "-" }
    try OutputSet.requireDistinct(["out", "json", "de-out"].map { ("--" + $0, o.string($0) == "-" ? nil : o.string($0)) })
    if toStdout.count > 1 {
        throw PVError.usage("only one output can go to stdout ('-'), not \(toStdout.map { "--" + $0 }.joined(separator: " and "))")
    }
    var opts = ScoreOptions()
    opts.nDE = try o.int("n-de")
    opts.l2Genes = try o.int("l2-genes")
    opts.blockSize = try o.int("block-size")
    opts.set = try o.choice("set", ["test", "val", "train"])
    opts.allowMissing = o.flag("allow-missing")
    opts.deFile = o.string("de")
    opts.controlSet = try o.choice("control-set", ["all", "test"])
    opts.reference = o.given("reference") ? o.string("reference") : nil
    let seed = try o.int("seed")
    guard seed >= 0 else { throw PVError.usage("--seed must be at least 0") }
    opts.seed = UInt64(seed)
    let specs = o.strings("pred")
    guard !specs.isEmpty else { throw PVError.usage("give at least one --pred NAME=DIR/pred.npy (see pv-score --help)") }

    let expr = try NPYArray(path: exprPath)
    let (rows, cols, values) = try expr.matrix()
    let split = try SplitTable(path: splitPath)
    let geneNames = try GeneNames.resolve(explicit: o.given("genes") ? o.string("genes") : nil, exprPath: exprPath, cols: cols)
    let predictions = try specs.map { try Prediction(spec: $0, cols: cols) }
    // pv-score parallelises over conditions itself; BLAS (the block metrics' small products) runs single-threaded,
    // set once here before any work rather than switched inside the scorer.
    BLAS.setThreads(1)

    let result = try Scorer.run(expr: values, rows: rows, cols: cols, exprName: displayName(exprPath), split: split,
                                geneNames: geneNames, predictions: predictions, options: opts)

    // All outputs are created first and committed together, so a failure leaves none behind. Their run id is a
    // hash of what they say (provenance aside): the same scores give the same files.
    RunStamp.begin()
    let outputs = OutputSet()
    var texts: [(label: String, path: String, text: String)] = []
    if let path = o.string("out") { texts.append(("--out", path, ScoreReport.table(result).text())) }
    if let path = o.string("json") {
        texts.append(("--json", path, String(decoding: try ScoreReport.json(result, options: opts), as: UTF8.self)))
    }
    if let path = o.string("de-out") { texts.append(("--de-out", path, DEGenes.table(result.de, geneNames: geneNames).text())) }
    var fingerprint = RunStamp.Fingerprint()
    for t in texts { fingerprint.add(t.label); fingerprint.addContent(t.text) }
    RunStamp.derive(from: fingerprint)
    for t in texts { try outputs.file(t.path, label: t.label).write(RunStamp.stamped(t.text)) }
    try outputs.commit()
    if toStdout.isEmpty { print(ScoreReport.summary(result), terminator: "") }
    info("scored \(result.predictions.count) prediction(s) on \(Set(result.conditions.map { $0.condition }).count) condition(s) of set '\(opts.set)'")
}
