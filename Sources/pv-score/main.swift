import Foundation
import PVShared

runTool("pv-score") {
    let o = try Options(
        tool: "pv-score",
        synopsis: "pv-score [options] --pred NAME=DIR/pred.npy [--pred ...] expr.npy split.tsv   |   pv-score --latents LATENTS.tsv --true-latents latents.npy [--json FILE]",
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
            Identifiability on a simulated screen: --latents (pv-predict --latents) against the true
            latents (pv-simulate's latents.npy), cells matched by barcode. mcc_resp: mean |Pearson r|
            of learned z_resp and true z_nu after the best one-to-one matching; r2_inv: R² of a
            linear regression of the true z_iota on the learned mu_inv.
            """,
        options: ScoreOptions.all,
        positionals: 0...2)
    if o.given(ScoreOptions.latents) || o.given(ScoreOptions.trueLatents) {
        try scoreLatents(o)
        return
    }
    guard o.positionals.count == 2 else {
        throw PVError.usage("expected 2 input arguments, expr.npy split.tsv (see pv-score --help)")
    }
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

/// pv-score's identifiability mode: --latents against --true-latents, the table to stdout, --json optional.
func scoreLatents(_ o: Options) throws {
    guard let latents = o[ScoreOptions.latents] else {
        throw PVError.usage("--true-latents needs --latents (pv-predict --latents output)")
    }
    guard let truePath = o[ScoreOptions.trueLatents] else {
        throw PVError.usage("--latents needs --true-latents (pv-simulate's latents.npy)")
    }
    let other = ScoreOptions.predictionOnly.filter { o.given($0) }.map { "--" + $0.name }
    if !other.isEmpty || !o.positionals.isEmpty {
        throw PVError.usage("--latents scores latents only: no " + (other + (o.positionals.isEmpty ? [] : ["expr.npy split.tsv"])).joined(separator: ", "))
    }
    if latents == "-" && o[ScoreOptions.trueCells] == "-" { throw PVError.usage("only one input can come from stdin ('-')") }
    let dir = (truePath as NSString).deletingLastPathComponent
    let cells = o[ScoreOptions.trueCells] ?? (dir.isEmpty ? "" : dir + "/") + "barcodes.tsv"
    let learned = try IdentifiabilityReport.Learned(path: latents)
    let truth = try IdentifiabilityReport.Truth(latents: truePath, barcodes: cells, resp: o[ScoreOptions.trueResp])
    let report = try IdentifiabilityReport(learned: learned, truth: truth)
    RunStamp.begin()
    if let path = o[ScoreOptions.json] {
        let outputs = OutputSet()
        var fingerprint = RunStamp.Fingerprint()
        let text = String(decoding: try report.json(), as: UTF8.self)
        fingerprint.add("--json"); fingerprint.addContent(text)
        RunStamp.derive(from: fingerprint)
        try outputs.file(path, label: "--json").write(RunStamp.stamped(text))
        try outputs.commit()
        if path == "-" { return }
    }
    print(report.summary, terminator: "")
}
