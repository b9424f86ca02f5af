import Foundation
import PVShared

runTool("pv-report") {
    let o = try Options(
        tool: "pv-report",
        synopsis: "pv-report [options] --out report.html scores.json [expr.npy split.tsv]",
        description: """
            Writes one self-contained HTML file (inline SVG, no script, no network) that shows a run:
            the score table of scores.json (pv-score --json; every predictor, group and metric it holds, the ceiling
            and paired comparisons when present); with expr.npy split.tsv and --pred, per held-out double the predicted
            against the true change (top DE genes highlighted) and the predicted against the true interaction (change
            minus the sum of the true single-gene changes); with --model, the training curves (each loss term, the
            validation loss, the epoch kept) and the learned graph Lambda_resp with each target's program.
            Every figure comes with a paragraph on how to read it.
            """,
        specs: [
            OptionSpec("out", short: "o", value: "FILE", help: "the HTML report (- for stdout)"),
            OptionSpec("pred", value: "NAME=PRED_DIR", repeatable: true, help: "a prediction (pv-predict's folder, or its pred.npy) for the scatters"),
            OptionSpec("model", value: "NAME=model.npz", repeatable: true, help: "a model for training curves and graph (pvae; baselines are listed)"),
            OptionSpec("reference", value: "NAME", default: "the one scores.json names, else additive", help: "the predictor to beat, shaded in the score table"),
            OptionSpec("edge-threshold", value: "X", default: "0.25", help: "|weight| above which a Lambda_resp entry is drawn as an edge"),
            OptionSpec("genes", value: "FILE", default: "genes.tsv beside expr.npy", help: "gene names (pv-normalize's genes.tsv)"),
            OptionSpec("title", value: "TEXT", default: "pv report", help: "the report's title"),
        ],
        positionals: 1...3)
    let out = try o.required("out")
    guard o.positionals.count != 2 else {
        throw PVError.usage("expected scores.json, or scores.json expr.npy split.tsv (usage: pv-report [options] --out report.html scores.json [expr.npy split.tsv])")
    }
    func named(_ option: String, _ what: String) throws -> [(name: String, path: String)] {
        try o.strings(option).map { spec in
            guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex, spec.index(after: eq) != spec.endIndex else {
                throw PVError.usage("--\(option) expects NAME=\(what), got '\(spec)'")
            }
            return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
        }
    }
    var job = ReportJob(scoresPath: o.positionals[0])
    job.predictions = try named("pred", "PRED_DIR")
    job.models = try named("model", "model.npz")
    if o.positionals.count == 3 { job.exprPath = o.positionals[1]; job.splitPath = o.positionals[2] }
    if !job.predictions.isEmpty && job.exprPath == nil {
        throw PVError.usage("--pred needs the truth: give scores.json expr.npy split.tsv")
    }
    if o.given("genes") { job.genesPath = o.string("genes") }
    if o.given("reference") { job.reference = try o.required("reference") }
    let threshold = try o.double("edge-threshold")
    guard threshold >= 0 else { throw PVError.usage("--edge-threshold must be at least 0, got \(threshold)") }
    job.edgeThreshold = Float(threshold)
    job.title = try o.required("title")

    let html = try job.run()
    let f = try OutputFile(out)
    try f.write(html)
    try f.commit()
    info("wrote \(out == "-" ? "the report to stdout" : out)")
}
