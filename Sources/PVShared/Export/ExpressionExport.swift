import Foundation

/// pv-normalize's output folder (expr.npy, genes.tsv, obs.tsv) as one AnnData store, optionally with the split's
/// condition, set and group in obs: what scanpy users open with `anndata.read_zarr`.
public enum ExpressionExport {
    /// Columns kept as strings whatever their values look like.
    static let textColumns: Set<String> = ["label", "condition", "set", "group", "gene_id", "symbol"]

    /// obs from obs.tsv: barcodes as the index, one row per expression row.
    static func obsFrame(_ path: String, rows: Int) throws -> DataFrame {
        let t = try TSVTable(path: path)
        guard t.rows.count == rows else {
            throw PVError.badInput(file: t.name, "has \(t.rows.count) cells but the expression matrix has \(rows) rows")
        }
        return try DataFrame(table: t, indexColumn: "barcode", text: textColumns)
    }

    /// var from genes.tsv: the gene names pv uses everywhere (symbol, else gene_id, else the first column) as the
    /// index, one row per expression column.
    static func geneFrame(_ path: String, cols: Int) throws -> DataFrame {
        let t = try TSVTable(path: path)
        guard t.rows.count == cols else {
            throw PVError.badInput(file: t.name, "lists \(t.rows.count) genes but the expression matrix has \(cols) columns")
        }
        let index = t.columnIfPresent("symbol").map { _ in "symbol" } ?? t.columnIfPresent("gene_id").map { _ in "gene_id" } ?? t.header[0]
        let frame = try DataFrame(table: t, indexColumn: index, text: textColumns)
        let repeated = frame.index.count - Set(frame.index).count
        if repeated > 0 { warn("\(t.name): \(repeated) gene name(s) occur more than once; anndata will ask for var_names_make_unique()") }
        return frame
    }

    /// Writes the store for `dir` (uncommitted: the caller commits it).
    public static func run(dir: String, split splitPath: String?, out: String, writer: AnnDataZarr) throws -> OutputFolder {
        let exprPath = dir + "/expr.npy"
        for f in ["expr.npy", "obs.tsv", "genes.tsv"] where !FileManager.default.fileExists(atPath: dir + "/" + f) {
            throw PVError.missingInput(file: dir + "/" + f, "not found (DIR must be a pv-normalize output folder)")
        }
        try RunStamp.requireSameRun([exprPath, dir + "/obs.tsv", dir + "/genes.tsv"])
        let (rows, cols, values) = try NPYArray(path: exprPath).matrix()
        var obs = try obsFrame(dir + "/obs.tsv", rows: rows)
        let genes = try geneFrame(dir + "/genes.tsv", cols: cols)
        if let splitPath {
            let split = try SplitTable(path: splitPath)
            try split.check(rows: rows, exprName: exprPath)
            if let i = obs.index.indices.first(where: { obs.index[$0] != split.barcodes[$0] }) {
                throw PVError.badInput(file: split.name, "cell \(i + 1) is '\(split.barcodes[i])' but obs.tsv has '\(obs.index[i])' there: the split is not of this folder")
            }
            obs.set("condition", .strings(split.conditions))
            obs.set("set", .strings(split.sets))
            obs.set("group", .strings(split.groups))
        }
        let x = values.baseAddress!
        return try writer.write(out, rows: rows, cols: cols, obs: obs, var: genes) { i, dst in
            dst.update(from: x + i * cols, count: cols)
        }
    }
}
