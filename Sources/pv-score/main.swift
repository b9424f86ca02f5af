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
        options: ScoreOptions.all,
        positionals: 2...2)
    let exprPath = o.positionals[0], splitPath = o.positionals[1]
    let outputs = [(ScoreOptions.out, o[ScoreOptions.out]), (ScoreOptions.json, o[ScoreOptions.json]),
                   (ScoreOptions.deOut, o[ScoreOptions.deOut])]
    let toStdout = outputs.filter { $0.1 == "-" }.map { "--" + $0.0.name }
    try OutputSet.requireDistinct(outputs.map { ("--" + $0.0.name, $0.1 == "-" ? nil : $0.1) })
    if toStdout.count > 1 {
        throw PVError.usage("only one output can go to stdout ('-'), not \(toStdout.joined(separator: " and "))")
    }
    let opts = ScoreSettings(o)
    let specs = o.all(ScoreOptions.pred).compactMap { $0 }
    guard !specs.isEmpty else { throw PVError.usage("give at least one --pred NAME=DIR/pred.npy (see pv-score --help)") }

    let expr = try NPYArray(path: exprPath)
    let (rows, cols, values) = try expr.matrix()
    let split = try SplitTable(path: splitPath)
    let geneNames = try GeneNames.resolve(explicit: o[ScoreOptions.genes], exprPath: exprPath, cols: cols)
    let predictions = try specs.map { try Prediction(spec: $0, cols: cols) }
    // pv-score parallelises over conditions itself; BLAS (the block metrics' small products) runs single-threaded,
    // set once here before any work rather than switched inside the scorer.
    BLAS.setThreads(1)

    let result = try Scorer.run(expr: values, rows: rows, cols: cols, exprName: displayName(exprPath), split: split,
                                geneNames: geneNames, predictions: predictions, options: opts)

    // All outputs are created first and committed together, so a failure leaves none behind. Their run id is a
    // hash of what they say (provenance aside): the same scores give the same files.
    RunStamp.begin()
    let outputSet = OutputSet()
    var texts: [(label: String, path: String, text: String)] = []
    if let path = o[ScoreOptions.out] { texts.append(("--out", path, ScoreReport.table(result).text())) }
    if let path = o[ScoreOptions.json] {
        texts.append(("--json", path, String(decoding: try ScoreReport.json(result, options: opts), as: UTF8.self)))
    }
    if let path = o[ScoreOptions.deOut] { texts.append(("--de-out", path, DEGenes.table(result.de, geneNames: geneNames).text())) }
    var fingerprint = RunStamp.Fingerprint()
    for t in texts { fingerprint.add(t.label); fingerprint.addContent(t.text) }
    RunStamp.derive(from: fingerprint)
    for t in texts { try outputSet.file(t.path, label: t.label).write(RunStamp.stamped(t.text)) }
    try outputSet.commit()
    if toStdout.isEmpty { print(ScoreReport.summary(result), terminator: "") }
    info("scored \(result.predictions.count) prediction(s) on \(Set(result.conditions.map { $0.condition }).count) condition(s) of set '\(opts.set.rawValue)'")
}
