import Foundation
import PVShared

runTool("pv-export") {
    let o = try Options(
        tool: "pv-export",
        synopsis: "pv-export [options] --out expr.zarr DIR   |   pv-export --cell-eval [options] --out DIR --pred NAME=PRED_DIR [--pred ...] expr.npy split.tsv",
        description: """
            Writes pv's files as AnnData zarr stores (zarr format 2) that anndata.read_zarr opens, for scanpy
            and cell-eval. DIR (pv-normalize's folder): X = expr.npy (float32, chunks of whole rows), obs =
            obs.tsv (barcode index; label, n_counts, ...; with --split also condition, set, group), var =
            genes.tsv (symbol index; gene_id, mean, dispersion, highly_variable, ...).
            --cell-eval: DIR/real.zarr (the true cells of the predicted conditions in split set --set, plus
            every control cell) and DIR/NAME.zarr per --pred (its predicted cells plus the same control cells),
            obs 'target' (the condition; controls --control-label) and 'group', gene symbols as var names;
            values below 0 are clamped. Score them with cell-eval's MetricsEvaluator on anndata.read_zarr(...)
            objects; its 'run' command reads .h5ad only: anndata.read_zarr(p).write_h5ad(q) converts.
            Every store is written to a temporary folder and renamed into place; an earlier store is replaced.
            """,
        options: ExportOptions.all,
        positionals: 1...2)
    let out = try o.required(ExportOptions.out)
    if out == "-" { throw PVError.usage("--out must be a path: a zarr store is a folder and cannot go to stdout ('-')") }
    let writer = AnnDataZarr(o)

    let stores: [OutputFolder]
    if o[ExportOptions.cellEval] {
        guard o.positionals.count == 2 else { throw PVError.usage("--cell-eval expects expr.npy split.tsv (usage: pv-export --cell-eval [options] --out DIR --pred NAME=PRED_DIR expr.npy split.tsv)") }
        if o.given(ExportOptions.split) { throw PVError.usage("--split is for the expression export; --cell-eval takes split.tsv as its second argument") }
        var job = CellEvalExport()
        job.writer = writer
        job.controlLabel = o[ExportOptions.controlLabel]
        job.set = o[ExportOptions.set]
        let preds = try o.all(ExportOptions.pred).map { spec -> (name: String, path: String) in
            guard let eq = spec.firstIndex(of: "=") else { throw PVError.usage("--pred expects NAME=PRED_DIR, got '\(spec)'") }
            return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
        }
        stores = try job.run(exprPath: o.positionals[0], splitPath: o.positionals[1], predictions: preds, outDir: out)
    } else {
        guard o.positionals.count == 1 else { throw PVError.usage("expected one pv-normalize folder DIR (usage: pv-export [options] --out expr.zarr DIR); for expr.npy split.tsv add --cell-eval") }
        for opt in ExportOptions.cellEvalOptions where o.given(opt) { throw PVError.usage("--\(opt.name) needs --cell-eval") }
        stores = [try ExpressionExport.run(dir: o.positionals[0], split: o[ExportOptions.split], out: out, writer: writer)]
    }
    for s in stores { try s.commit() }
    info("wrote \(stores.map(\.path).joined(separator: ", "))")
}
