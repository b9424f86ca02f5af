import Foundation

/// One set of predicted cells for pv-score: `pred.npy` (cells x genes, float32) and the `pred.tsv` beside it
/// (columns `row`, `condition`, `control_barcode`; `#` lines skipped), named on the command line by `NAME=PATH`.
/// When `means.npy` and `means.tsv` (row, condition) lie beside it (pv-predict writes them), the predicted mean of
/// each condition comes from there; otherwise it is the mean of the condition's predicted cells.
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
    /// Predicted means from means.npy (nil when the prediction has none).
    public private(set) var means: [String: [Double]]?
    public let meansPath: String

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
        let folder = URL(fileURLWithPath: npyPath).deletingLastPathComponent()
        tsvPath = folder.appendingPathComponent("pred.tsv").path
        meansPath = folder.appendingPathComponent("means.npy").path
        array = try NPYArray(path: npyPath)
        let m = try array.matrix()
        guard m.cols == cols else {
            throw PVError.badInput(file: npyPath, "has \(m.cols) genes (columns) but the truth has \(cols); predictions must use the expression matrix's genes in order")
        }
        rows = m.rows; values = m.values
        guard FileManager.default.fileExists(atPath: tsvPath) else {
            throw PVError.missingInput(file: tsvPath, "no pred.tsv beside \(npyPath) (pv-predict writes both)")
        }
        // All four files of one pv-predict run: a run killed between its renames leaves a mix.
        try RunStamp.requireSameRun([npyPath, tsvPath, meansPath, folder.appendingPathComponent("means.tsv").path])
        let t = try TSVTable(path: tsvPath)
        let rc = try t.column("row"), cc = try t.column("condition")
        // Every row of pred.npy is one listed cell: rows pred.tsv does not list were ignored silently.
        guard t.rows.count == rows else {
            throw PVError.badInput(file: tsvPath, "lists \(t.rows.count) cells but \(npyPath) has \(rows) rows; pred.tsv must list every row of pred.npy once")
        }
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
            let cond = try LabelSyntax().strictCanonical(label) { PVError.badInput(file: tsvPath, line: line, $0) }
            rowsByCondition[cond, default: []].append(row)
            if firstLine[cond] == nil { firstLine[cond] = line }
        }
        if FileManager.default.fileExists(atPath: meansPath) { try readMeans(cols: cols) }
    }

    /// Reads means.npy with means.tsv; every predicted condition must have a mean, and every mean must be finite.
    func readMeans(cols: Int) throws {
        let tsv = String(meansPath.dropLast(4)) + ".tsv"
        guard FileManager.default.fileExists(atPath: tsv) else {
            throw PVError.missingInput(file: tsv, "no means.tsv beside \(meansPath) (pv-predict writes both)")
        }
        let m = try NPYArray(path: meansPath).matrix()
        guard m.cols == cols else { throw PVError.badInput(file: meansPath, "has \(m.cols) genes (columns) but the truth has \(cols)") }
        let t = try TSVTable(path: tsv)
        let rc = try t.column("row"), cc = try t.column("condition")
        guard t.rows.count == m.rows else {
            throw PVError.badInput(file: tsv, "lists \(t.rows.count) conditions but \(meansPath) has \(m.rows) rows; means.tsv must list every row of means.npy once")
        }
        var seenRows = Set<Int>()
        var out: [String: [Double]] = [:]
        for (i, r) in t.rows.enumerated() {
            let line = t.lineNumbers[i]
            guard let row = Int(r[rc]), row >= 0, row < m.rows else {
                throw PVError.badInput(file: tsv, line: line, "row '\(r[rc])' is not a row index of \(meansPath) (0..<\(m.rows))")
            }
            if !seenRows.insert(row).inserted { throw PVError.badInput(file: tsv, line: line, "row \(row) listed twice") }
            let cond = LabelSyntax().canonical(r[cc].trimmingCharacters(in: .whitespaces))
            if out[cond] != nil { throw PVError.badInput(file: tsv, line: line, "condition \(cond) listed twice") }
            let x = (0..<cols).map { Double(m.values[row * cols + $0]) }
            if let g = x.firstIndex(where: { !$0.isFinite }) {
                throw PVError.badInput(file: meansPath, "row \(row) (condition \(cond)), column \(g): value is \(x[g]); means must be finite")
            }
            out[cond] = x
        }
        if let c = rowsByCondition.keys.sorted().first(where: { out[$0] == nil }) {
            throw PVError.badInput(file: tsv, "no mean for condition \(c), which \(tsvPath) predicts")
        }
        means = out
    }

    /// The predicted mean of `condition`: from means.npy when present, else the mean of its cells.
    public func mean(_ condition: String, cols: Int) -> [Double] {
        means?[condition] ?? Score.mean(values, cols: cols, rows: rowsByCondition[condition] ?? [])
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
