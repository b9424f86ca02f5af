import Foundation

/// One set of predicted cells for pv-score: `pred.npy` (cells x genes, float32) and the `pred.tsv` beside it
/// (columns `row`, `condition`, `control_barcode`; `#` lines skipped), named on the command line by `NAME=PATH`.
public final class Prediction {
    public let name: String
    public let npyPath: String
    public let tsvPath: String
    public let array: NPYArray
    public let values: UnsafeBufferPointer<Float>
    public let rows: Int
    /// pred.npy rows of each condition (canonical name), in pred.tsv order.
    public private(set) var rowsByCondition: [String: [Int]] = [:]
    /// Line of pred.tsv where each condition first appears (for messages).
    public private(set) var firstLine: [String: Int] = [:]

    /// Parses `NAME=PATH` (or a bare PATH, named after its folder) and reads both files; `cols` is the truth's gene count.
    public init(spec: String, cols: Int) throws {
        if let eq = spec.firstIndex(of: "=") {
            name = String(spec[..<eq]); npyPath = String(spec[spec.index(after: eq)...])
        } else {
            npyPath = spec
            name = URL(fileURLWithPath: spec).deletingLastPathComponent().lastPathComponent
        }
        guard !name.isEmpty, !npyPath.isEmpty else { throw PVError.usage("--pred expects NAME=DIR/pred.npy, got '\(spec)'") }
        guard !name.contains("\t"), !name.contains("\n") else { throw PVError.usage("--pred name '\(name)' contains a tab or newline") }
        tsvPath = URL(fileURLWithPath: npyPath).deletingLastPathComponent().appendingPathComponent("pred.tsv").path
        array = try NPYArray(path: npyPath)
        let m = try array.matrix()
        guard m.cols == cols else {
            throw PVError.badInput(file: npyPath, "has \(m.cols) genes (columns) but the truth has \(cols); predictions must use the expression matrix's genes in order")
        }
        rows = m.rows; values = m.values
        guard FileManager.default.fileExists(atPath: tsvPath) else {
            throw PVError.missingInput(file: tsvPath, "no pred.tsv beside \(npyPath) (pv-predict writes both)")
        }
        let t = try TSVTable(path: tsvPath)
        let rc = try t.column("row"), cc = try t.column("condition")
        var seen = [Int](repeating: 0, count: rows)
        for (i, r) in t.rows.enumerated() {
            let line = t.lineNumbers[i]
            guard let row = Int(r[rc]), row >= 0, row < rows else {
                throw PVError.badInput(file: tsvPath, line: line, "row '\(r[rc])' is not a row index of \(npyPath) (0..<\(rows))")
            }
            if seen[row] != 0 { throw PVError.badInput(file: tsvPath, line: line, "row \(row) already listed on line \(seen[row])") }
            seen[row] = line
            let label = r[cc].trimmingCharacters(in: .whitespaces)
            guard !label.isEmpty else { throw PVError.badInput(file: tsvPath, line: line, "empty condition") }
            let cond = LabelSyntax().canonical(label)
            rowsByCondition[cond, default: []].append(row)
            if firstLine[cond] == nil { firstLine[cond] = line }
        }
    }

    /// Fails naming the row, gene and condition of the first non-finite value among the given rows.
    public func checkFinite(rows check: [Int], condition: String, geneNames: [String]) throws {
        let cols = geneNames.count
        for r in check {
            let x = values.baseAddress! + r * cols
            for g in 0..<cols where !x[g].isFinite {
                throw PVError.badInput(file: npyPath, "row \(r) (condition \(condition)), gene \(geneNames[g]) (column \(g)): value is \(x[g]); predictions must be finite")
            }
        }
    }
}
