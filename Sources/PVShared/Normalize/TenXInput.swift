import Foundation

/// The three files of a 10x Matrix Market folder.
public struct TenXPaths {
    public var matrix: String
    public var barcodes: String
    public var features: String

    public init(matrix: String, barcodes: String, features: String) {
        self.matrix = matrix; self.barcodes = barcodes; self.features = features
    }

    /// Finds matrix.mtx[.gz], barcodes.tsv[.gz] and features.tsv[.gz] (or genes.tsv[.gz], Cell Ranger 2) in `dir`;
    /// explicit paths override. A missing file is `missingInput` naming what was looked for.
    public static func locate(dir: String?, matrix: String?, barcodes: String?, features: String?) throws -> TenXPaths {
        func find(_ names: [String], _ what: String) throws -> String {
            guard let dir else { throw PVError.usage("give a 10x folder or --\(what)") }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
                throw PVError.missingInput(file: dir, "no such folder")
            }
            guard isDir.boolValue else { throw PVError.missingInput(file: dir, "is not a folder (expected a 10x folder with matrix.mtx.gz, barcodes.tsv.gz, features.tsv.gz)") }
            for n in names {
                let p = (dir as NSString).appendingPathComponent(n)
                if FileManager.default.fileExists(atPath: p) { return p }
            }
            throw PVError.missingInput(file: dir, "no \(names.joined(separator: " or ")) in this folder")
        }
        return TenXPaths(
            matrix: try matrix ?? find(["matrix.mtx.gz", "matrix.mtx"], "matrix"),
            barcodes: try barcodes ?? find(["barcodes.tsv.gz", "barcodes.tsv"], "barcodes"),
            features: try features ?? find(["features.tsv.gz", "features.tsv", "genes.tsv.gz", "genes.tsv"], "features"))
    }
}

/// Cell labels (`barcode<TAB>label`), as given to pv-normalize with `--labels`.
public struct CellLabels {
    /// Label of each barcode.
    public var byBarcode: [String: String]
    /// 1-based line of each barcode (for messages).
    public var lineOf: [String: Int]
    /// Barcodes in file order.
    public var order: [String]
    public var name: String

    /// Reads a two-column table; an optional header row `barcode<TAB>label` and `#` lines are skipped, further columns
    /// ignored. Duplicate barcodes are an error.
    public init(path: String) throws {
        let r = try LineReader(path: path)
        name = r.name
        byBarcode = [:]; lineOf = [:]; order = []
        var first = true
        while let line = try r.nextString() {
            if line.hasPrefix("#") || line.isEmpty { continue }
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            if first {
                first = false
                if f.count >= 2 && f[0].lowercased() == "barcode" && (f[1].lowercased() == "label" || f[1].lowercased() == "condition") { continue }
            }
            guard f.count >= 2 else {
                throw PVError.badInput(file: name, line: r.lineNumber, "expected 2 tab-separated fields 'barcode<TAB>label', found \(f.count)")
            }
            let b = String(f[0])
            guard !b.isEmpty else { throw PVError.badInput(file: name, line: r.lineNumber, "empty barcode") }
            if let prev = lineOf[b] {
                throw PVError.badInput(file: name, line: r.lineNumber, "duplicate barcode \(b) (first on line \(prev))")
            }
            byBarcode[b] = String(f[1]); lineOf[b] = r.lineNumber; order.append(b)
        }
        if order.isEmpty { throw PVError.badInput(file: name, "no labelled cells in this file") }
    }
}
