import Foundation

/// Cells with their perturbation labels, as pv-split reads them: `obs.tsv` from pv-normalize (a header naming
/// `barcode` and `label` columns) or any headerless `barcode<TAB>label` table such as a 10x `cells.tsv`.
public struct LabeledCells {
    public var barcodes: [String] = []
    /// Labels exactly as written in the input.
    public var labels: [String] = []
    /// Canonical condition of each cell (`ctrl`, or genes sorted and joined by `+`).
    public var conditions: [String] = []
    /// 1-based input line of each cell (for messages).
    public var lineNumbers: [Int] = []
    public var name: String

    public var count: Int { barcodes.count }

    /// Reads `path` (`-` for stdin, plain or gzip). The first non-`#` line is a header when one of its fields is
    /// `barcodeColumn` or `labelColumn`; then both columns must exist. Otherwise the table has no header and its
    /// first two columns are barcode and label. Rejects empty tables, missing label fields and duplicate barcodes.
    public init(path: String, syntax: LabelSyntax, barcodeColumn: String = "barcode", labelColumn: String = "label") throws {
        // pv-normalize's obs.tsv must come from the same run as the expr.npy beside it.
        if path != "-" && URL(fileURLWithPath: path).lastPathComponent == "obs.tsv" {
            try RunStamp.requireSameRun([path] + ["expr.npy", "genes.tsv"].map { RunStamp.sibling(path, $0) })
        }
        let r = try LineReader(path: path)
        name = r.name
        var bcol = 0, lcol = 1, width = -1
        var first = true
        var seen: [String: Int] = [:]
        var repeated: [String: Int] = [:]
        while let line = try r.nextString() {
            if line.hasPrefix("#") || line.isEmpty { continue }
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if first {
                first = false
                if f.contains(barcodeColumn) || f.contains(labelColumn) {
                    guard let b = f.firstIndex(of: barcodeColumn) else {
                        throw PVError.badInput(file: name, line: r.lineNumber, "no column '\(barcodeColumn)' in the header (columns: \(f.joined(separator: ", ")))")
                    }
                    guard let l = f.firstIndex(of: labelColumn) else {
                        throw PVError.badInput(file: name, line: r.lineNumber, "no column '\(labelColumn)' in the header (columns: \(f.joined(separator: ", ")))")
                    }
                    bcol = b; lcol = l; width = f.count
                    continue
                }
            }
            if width >= 0 {
                guard f.count == width else {
                    throw PVError.badInput(file: name, line: r.lineNumber, "expected \(width) tab-separated fields, found \(f.count)")
                }
            } else if f.count < 2 {
                throw PVError.badInput(file: name, line: r.lineNumber, "missing label column: expected barcode<TAB>label (or a header naming '\(barcodeColumn)' and '\(labelColumn)')")
            }
            let bc = f[bcol], label = f[lcol]
            if bc.isEmpty { throw PVError.badInput(file: name, line: r.lineNumber, "empty barcode") }
            if bc.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw PVError.badInput(file: name, line: r.lineNumber, "barcode '\(bc)' contains a control character")
            }
            if let p = syntax.problem(label) { throw PVError.badInput(file: name, line: r.lineNumber, p) }
            if syntax.repeatsGene(label) { repeated[label, default: 0] += 1 }
            if let prev = seen[bc] { throw PVError.badInput(file: name, line: r.lineNumber, "duplicate barcode \(bc) (first on line \(prev))") }
            seen[bc] = r.lineNumber
            let genes = syntax.genes(label)
            if syntax.separator != "+", let bad = genes.first(where: { $0.contains("+") }) {
                throw PVError.badInput(file: name, line: r.lineNumber, "gene name '\(bad)' contains '+', which pv reserves to join the genes of a combination")
            }
            if genes.contains(Condition.control) {
                throw PVError.badInput(file: name, line: r.lineNumber, "label '\(label)' names a gene '\(Condition.control)', which pv reserves for controls")
            }
            barcodes.append(bc); labels.append(label); conditions.append(Condition.name(genes)); lineNumbers.append(r.lineNumber)
        }
        if barcodes.isEmpty { throw PVError.badInput(file: name, "no cells (expected barcode<TAB>label rows)") }
        for (l, n) in repeated.sorted(by: { $0.key < $1.key }) {
            warn("\(name): label '\(l)' (\(n) cell\(n == 1 ? "" : "s")) names a gene twice; read as \(syntax.canonical(l))")
        }
    }

    /// Builds a table directly (tests, other tools).
    public init(barcodes: [String], labels: [String], syntax: LabelSyntax = LabelSyntax(), name: String = "cells") {
        self.name = name
        self.barcodes = barcodes; self.labels = labels
        conditions = labels.map { syntax.canonical($0) }
        lineNumbers = barcodes.indices.map { $0 + 1 }
    }

    /// Cell indices of each canonical condition, in input order.
    public func cellsByCondition() -> [String: [Int]] {
        var d: [String: [Int]] = [:]
        for (i, c) in conditions.enumerated() { d[c, default: []].append(i) }
        return d
    }
}
