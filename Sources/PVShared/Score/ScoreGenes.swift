import Foundation

/// Gene names for pv-score's messages and DE tables: the `symbol` column of pv-normalize's genes.tsv (else
/// `gene_id`, else the first column); column indices when no genes file exists.
public enum ScoreGenes {
    public static func names(path: String, required: Bool, cols: Int) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else {
            if required { throw PVError.missingInput(file: path, "no such genes file") }
            return (0..<cols).map { "gene\($0)" }
        }
        let t = try TSVTable(path: path)
        let c = t.columnIfPresent("symbol") ?? t.columnIfPresent("gene_id") ?? 0
        guard t.rows.count == cols else {
            throw PVError.badInput(file: t.name, "lists \(t.rows.count) genes but the expression matrix has \(cols) columns")
        }
        return t.rows.map { $0[c] }
    }
}
