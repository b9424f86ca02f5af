import Foundation
import PVShared

runTool("pv-report") {
    let o = try Options(
        tool: "pv-report",
        synopsis: ReportOptions.synopsis,
        description: """
            Writes one self-contained HTML file (inline SVG, no script, no network) that shows a run:
            the score table of scores.json (pv-score --json; every predictor, group and metric it holds, the ceiling
            and paired comparisons when present); with expr.npy split.tsv and --pred, per held-out double the predicted
            against the true change (top DE genes highlighted) and the predicted against the true interaction (change
            minus the sum of the true single-gene changes); with --model, the training curves (each loss term, the
            validation loss, the epoch kept) and the learned graph Lambda_resp with each target's program.
            Every figure comes with a paragraph on how to read it.
            """,
        options: ReportOptions.all,
        positionals: 1...3)
    let out = try o.required(ReportOptions.out)
    let job = try ReportJob(o)

    let html = try job.run()
    let f = try OutputFile(out)
    try f.write(html)
    try f.commit()
    info("wrote \(out == "-" ? "the report to stdout" : out)")
}
