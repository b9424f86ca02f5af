import Foundation

/// The gene names of an expression matrix's columns (model files, prediction checks, messages, DE tables), read
/// from pv-normalize's genes.tsv: column `symbol`, else `gene_id`, else the first column.
public enum GeneNames {
    /// The genes.tsv beside `exprPath`, when there is one (never for stdin).
    public static func besideExpr(_ exprPath: String) -> String? {
        guard exprPath != "-" else { return nil }
        let p = URL(fileURLWithPath: exprPath).deletingLastPathComponent().appendingPathComponent("genes.tsv").path
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    /// Names from a genes table, which must list one gene per matrix column.
    public static func read(_ path: String, cols: Int) throws -> [String] {
        let t = try TSVTable(path: path)
        let c = t.columnIfPresent("symbol") ?? t.columnIfPresent("gene_id") ?? 0
        guard t.rows.count == cols else {
            throw PVError.badInput(file: t.name, "lists \(t.rows.count) genes but the expression matrix has \(cols) columns")
        }
        return t.rows.map { $0[c] }
    }

    /// `explicit` when given (it must exist), else the genes.tsv beside expr.npy, else `gene0` ... (column indices).
    /// Refuses expr.npy, genes.tsv and obs.tsv of one folder written by different pv-normalize runs.
    public static func resolve(explicit: String?, exprPath: String, cols: Int) throws -> [String] {
        if exprPath != "-" {
            try RunStamp.requireSameRun([exprPath] + ["genes.tsv", "obs.tsv"].map { RunStamp.sibling(exprPath, $0) })
        }
        if let p = explicit ?? besideExpr(exprPath) { return try read(p, cols: cols) }
        return (0..<cols).map { "gene\($0)" }
    }
}
