import Foundation

/// A tab-separated table with a header row. `#` lines before or inside it are provenance comments and skipped.
public struct TSVTable {
    public var header: [String]
    public var rows: [[String]]
    /// 1-based line number in the source file of each row (for error messages).
    public var lineNumbers: [Int]
    public var name: String

    public init(header: [String], rows: [[String]] = [], name: String = "") {
        self.header = header; self.rows = rows; self.name = name
        lineNumbers = rows.indices.map { $0 + 2 }
    }

    /// Reads `path` (plain or gzip, `-` for stdin). With `hasHeader: false` columns are named `1`, `2`, ...
    /// Every row must have as many fields as the header.
    public init(path: String, hasHeader: Bool = true) throws {
        let r = try LineReader(path: path)
        name = r.name
        header = []; rows = []; lineNumbers = []
        var haveHeader = !hasHeader
        while let line = try r.nextString() {
            if line.hasPrefix("#") || line.isEmpty { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if !haveHeader { header = fields; haveHeader = true; continue }
            if header.isEmpty { header = (1...fields.count).map(String.init) }
            guard fields.count == header.count else {
                throw PVError.badInput(file: name, line: r.lineNumber,
                                       "expected \(header.count) tab-separated fields, found \(fields.count)")
            }
            rows.append(fields); lineNumbers.append(r.lineNumber)
        }
        if !haveHeader && hasHeader { throw PVError.badInput(file: name, "empty file, expected a header row") }
    }

    /// Index of a required column; the error names the file and the columns it has.
    public func column(_ name: String) throws -> Int {
        guard let i = header.firstIndex(of: name) else {
            throw PVError.badInput(file: self.name, "no column '\(name)' (columns: \(header.joined(separator: ", ")))")
        }
        return i
    }

    public func columnIfPresent(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// All values of a column.
    public func values(_ name: String) throws -> [String] {
        let c = try column(name); return rows.map { $0[c] }
    }

    /// Serialised text: provenance comments (unless `provenance` is false), header, rows.
    public func text(provenance: Bool = true) -> String {
        var s = ""
        if provenance { for l in provenanceLines() { s += l + "\n" } }
        s += header.joined(separator: "\t") + "\n"
        for r in rows { s += r.joined(separator: "\t") + "\n" }
        return s
    }

    /// Writes the table atomically (`-` for stdout).
    public func write(_ path: String, provenance: Bool = true) throws {
        let t = text(provenance: provenance)
        try writeFileAtomically(path) { try $0.write(t) }
    }
}

/// One gene of a 10x `features.tsv`/`genes.tsv`: id and symbol (the symbol repeats the id for 1-column files).
public struct Feature: Equatable {
    public var id: String
    public var symbol: String
    public var type: String

    public init(id: String, symbol: String, type: String = "Gene Expression") { self.id = id; self.symbol = symbol; self.type = type }
}

/// Reads a 10x features file with 1, 2 or 3 (or more) tab-separated columns and no header; plain or gzip.
public func readFeatures(_ path: String) throws -> [Feature] {
    let r = try LineReader(path: path)
    var out: [Feature] = []
    var ncol = -1
    while let line = try r.nextString() {
        if line.isEmpty { throw PVError.badInput(file: r.name, line: r.lineNumber, "empty line in features file") }
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        if ncol < 0 { ncol = f.count }
        guard f.count == ncol else {
            throw PVError.badInput(file: r.name, line: r.lineNumber, "expected \(ncol) tab-separated fields, found \(f.count)")
        }
        guard !f[0].isEmpty else { throw PVError.badInput(file: r.name, line: r.lineNumber, "empty gene id") }
        out.append(Feature(id: f[0], symbol: f.count > 1 ? f[1] : f[0], type: f.count > 2 ? f[2] : "Gene Expression"))
    }
    if out.isEmpty { throw PVError.badInput(file: r.name, "empty features file") }
    return out
}

/// Reads a 10x barcodes file (first column; plain or gzip), rejecting empty and duplicate barcodes.
public func readBarcodes(_ path: String) throws -> [String] {
    let r = try LineReader(path: path)
    var out: [String] = []
    var seen: [String: Int] = [:]
    while let line = try r.nextString() {
        let b = String(line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)[0])
        if b.isEmpty { throw PVError.badInput(file: r.name, line: r.lineNumber, "empty barcode") }
        if let prev = seen[b] { throw PVError.badInput(file: r.name, line: r.lineNumber, "duplicate barcode \(b) (first on line \(prev))") }
        seen[b] = r.lineNumber
        out.append(b)
    }
    if out.isEmpty { throw PVError.badInput(file: r.name, "empty barcodes file") }
    return out
}
