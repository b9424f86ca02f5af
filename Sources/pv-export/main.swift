import Foundation
import PVShared

runTool("pv-export") {
    let o = try Options(
        tool: "pv-export",
        synopsis: "pv-export [options] --out expr.zarr DIR   |   pv-export --cell-eval [options] --out DIR --pred NAME=PRED_DIR [--pred ...] expr.npy split.tsv",
        description: """
            Writes pv's files as AnnData zarr stores (zarr format 2) that anndata.read_zarr opens, for scanpy and cell-eval.
            DIR (pv-normalize's folder): X = expr.npy (float32, chunks of whole rows), obs = obs.tsv (barcode index;
            label, n_counts, ...; with --split also condition, set, group), var = genes.tsv (symbol index; gene_id,
            mean, dispersion, highly_variable, ...).
            --cell-eval: DIR/real.zarr (the true cells of the predicted conditions in split set --set, plus every control
            cell) and DIR/NAME.zarr per --pred (its predicted cells plus the same control cells), obs 'target' (the
            condition; controls --control-label) and 'group', gene symbols as var names; values below 0 are clamped.
            Score them with cell-eval's MetricsEvaluator on anndata.read_zarr(...) objects; its 'run' command reads
            .h5ad only: anndata.read_zarr(p).write_h5ad(q) converts.
            Every store is written to a temporary folder and renamed into place; an earlier store is replaced.
            """,
        specs: [
            OptionSpec("out", short: "o", value: "PATH", help: "the store (expr.zarr), or with --cell-eval the folder for real.zarr and NAME.zarr"),
            OptionSpec("split", value: "FILE", help: "add condition, set and group from pv-split's split.tsv to obs"),
            .flag("cell-eval", help: "write the real/predicted pair cell-eval compares"),
            OptionSpec("pred", value: "NAME=PRED_DIR", repeatable: true, help: "with --cell-eval: a prediction (pv-predict's folder, or its pred.npy)"),
            OptionSpec("control-label", value: "LABEL", default: "non-targeting", help: "with --cell-eval: 'target' of control cells (cell-eval's --control-pert)"),
            OptionSpec("set", value: "NAME", default: "test", help: "with --cell-eval: split set whose cells are the truth"),
            OptionSpec("compress", value: "LEVEL", default: "1", help: "zlib level of every chunk, 1-9; 0 stores raw chunks"),
            OptionSpec("chunk-rows", value: "N", default: "about 4 MiB per chunk", help: "cells per chunk of X"),
        ],
        positionals: 1...2)
    let out = try o.required("out")
    if out == "-" { throw PVError.usage("--out must be a path: a zarr store is a folder and cannot go to stdout ('-')") }
    var writer = AnnDataZarr()
    let level = try o.int("compress")
    guard (0...9).contains(level) else { throw PVError.usage("--compress must be 0 to 9, got \(level)") }
    writer.compressor = level == 0 ? .none : .zlib(level: level)
    if o.given("chunk-rows") { writer.chunkRows = try o.int("chunk-rows", atLeast: 1) }

    let stores: [OutputFolder]
    if o.flag("cell-eval") {
        guard o.positionals.count == 2 else { throw PVError.usage("--cell-eval expects expr.npy split.tsv (usage: pv-export --cell-eval [options] --out DIR --pred NAME=PRED_DIR expr.npy split.tsv)") }
        if o.given("split") { throw PVError.usage("--split is for the expression export; --cell-eval takes split.tsv as its second argument") }
        var job = CellEvalExport()
        job.writer = writer
        job.controlLabel = try o.required("control-label")
        job.set = try o.choice("set", ["test", "val", "train"])
        let preds = try o.strings("pred").map { spec -> (name: String, path: String) in
            guard let eq = spec.firstIndex(of: "=") else { throw PVError.usage("--pred expects NAME=PRED_DIR, got '\(spec)'") }
            return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
        }
        stores = try job.run(exprPath: o.positionals[0], splitPath: o.positionals[1], predictions: preds, outDir: out)
    } else {
        guard o.positionals.count == 1 else { throw PVError.usage("expected one pv-normalize folder DIR (usage: pv-export [options] --out expr.zarr DIR); for expr.npy split.tsv add --cell-eval") }
        for opt in ["pred", "control-label", "set"] where o.given(opt) { throw PVError.usage("--\(opt) needs --cell-eval") }
        stores = [try ExpressionExport.run(dir: o.positionals[0], split: o.string("split"), out: out, writer: writer)]
    }
    for s in stores { try s.commit() }
    info("wrote \(stores.map(\.path).joined(separator: ", "))")
}
