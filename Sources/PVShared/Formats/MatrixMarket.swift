import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The banner and size line of a Matrix Market file.
public struct MatrixMarketHeader: Equatable {
    public enum Format: String { case coordinate, array }
    public enum Field: String { case integer, real, pattern }
    public var format: Format
    public var field: Field
    /// Declared rows (genes in a 10x file), columns (cells) and, for coordinate files, stored entries.
    public var rows: Int
    public var cols: Int
    public var entries: Int
    /// 1-based line number of the size line.
    public var sizeLine: Int

    public init(format: Format, field: Field, rows: Int, cols: Int, entries: Int, sizeLine: Int) {
        self.format = format; self.field = field; self.rows = rows; self.cols = cols
        self.entries = entries; self.sizeLine = sizeLine
    }
}

/// What the caller knows about the matrix's shape from the barcodes and features files (10x layout: genes x cells).
public struct MatrixMarketExpectedShape {
    public var genes: Int
    public var genesFile: String
    public var cells: Int
    public var cellsFile: String
    public init(genes: Int, genesFile: String, cells: Int, cellsFile: String) {
        self.genes = genes; self.genesFile = genesFile; self.cells = cells; self.cellsFile = cellsFile
    }
}

/// Streaming reader of 10x-style Matrix Market files (genes x cells, 1-based) into a cells x genes CSR matrix.
///
/// Accepts `coordinate` (integer, real, pattern) and `array` (integer, real) with `general` symmetry; pattern entries
/// read as 1. Every line is validated (indices, numbers, duplicates, entry count) and errors name file and line.
/// Gzip is detected by magic bytes (ByteSource). Memory: about 8 bytes per nonzero plus 4 more when the entries are
/// not grouped by cell (10x writes them grouped); never a dense matrix.
public enum MatrixMarket {
    /// Reads the banner, comments and size line; leaves `reader` positioned at the first entry.
    public static func readHeader<R: LineSource>(_ r: R) throws -> MatrixMarketHeader {
        let name = r.name
        guard let first = try r.next() else {
            throw PVError.badInput(file: name, "empty file, expected a Matrix Market banner '%%MatrixMarket matrix coordinate integer general'")
        }
        let banner = String(decoding: first, as: UTF8.self)
        let toks = banner.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.lowercased() }
        guard toks.first == "%%matrixmarket" else {
            throw PVError.badInput(file: name, line: r.lineNumber,
                                   "not a Matrix Market file: expected the banner '%%MatrixMarket matrix coordinate integer general', found '\(clip(banner))'")
        }
        guard toks.count == 5 else {
            throw PVError.badInput(file: name, line: r.lineNumber,
                                   "bad Matrix Market banner '\(clip(banner))': expected '%%MatrixMarket matrix FORMAT FIELD SYMMETRY'")
        }
        guard toks[1] == "matrix" else {
            throw PVError.badInput(file: name, line: r.lineNumber, "unsupported Matrix Market object '\(toks[1])' (only 'matrix')")
        }
        guard let format = MatrixMarketHeader.Format(rawValue: toks[2]) else {
            throw PVError.badInput(file: name, line: r.lineNumber, "unsupported Matrix Market format '\(toks[2])' (expected coordinate or array)")
        }
        guard let field = MatrixMarketHeader.Field(rawValue: toks[3]) else {
            throw PVError.badInput(file: name, line: r.lineNumber, "unsupported Matrix Market field '\(toks[3])' (expected integer, real or pattern)")
        }
        if format == .array && field == .pattern {
            throw PVError.badInput(file: name, line: r.lineNumber, "Matrix Market 'array pattern' is not a valid combination")
        }
        guard toks[4] == "general" else {
            throw PVError.badInput(file: name, line: r.lineNumber,
                                   "unsupported Matrix Market symmetry '\(toks[4])' (only 'general': a count matrix is not symmetric)")
        }
        // Comments and blank lines, then the size line.
        while let line = try r.next() {
            var t = Tokens(line)
            if t.isBlank || line.first == UInt8(ascii: "%") { continue }
            let want = format == .coordinate ? 3 : 2
            let shape = format == .coordinate ? "'rows columns entries'" : "'rows columns'"
            let parts = t.all()
            var nums: [Int] = []
            for p in parts {
                guard let v = parseUInt(p) else { break }
                nums.append(v)
            }
            guard parts.count == want, nums.count == want else {
                throw PVError.badInput(file: name, line: r.lineNumber,
                                       "bad size line '\(clip(String(decoding: line, as: UTF8.self)))': expected \(want) non-negative integers \(shape)")
            }
            guard nums[0] <= Int(Int32.max), nums[1] <= Int(Int32.max) else {
                throw PVError.badInput(file: name, line: r.lineNumber, "matrix dimensions \(nums[0]) x \(nums[1]) are too large")
            }
            let entries = format == .coordinate ? nums[2] : nums[0] * nums[1]
            if format == .coordinate && entries > nums[0] * nums[1] {
                throw PVError.badInput(file: name, line: r.lineNumber,
                                       "declares \(entries) entries, more than rows x columns = \(nums[0] * nums[1])")
            }
            return MatrixMarketHeader(format: format, field: field, rows: nums[0], cols: nums[1], entries: entries, sizeLine: r.lineNumber)
        }
        throw PVError.badInput(file: name, line: r.lineNumber, "file ends before the size line ('rows columns entries')")
    }

    /// Reads a genes x cells Matrix Market file into a cells x genes CSR matrix (stored zeros dropped).
    /// `expect`, when given, is checked against the size line before any entry is read; `allowPattern: false` rejects
    /// pattern matrices (which otherwise read as 1 per entry). `progress` shows a Progress line for files of a million
    /// entries or more.
    public static func readCellsByGenes(path: String, expect: MatrixMarketExpectedShape? = nil,
                                        allowPattern: Bool = true, progress: Bool = false) throws -> (MatrixMarketHeader, CSRMatrix) {
        let (h, m, _) = try readCellsByGenesWithTotals(path: path, expect: expect, allowPattern: allowPattern, progress: progress)
        return (h, m)
    }

    /// Per-cell totals and detected genes, as `Normalization.cellTotals` computes them on the matrix read (the same
    /// float64 sums in the same order), accumulated while parsing so that no pass over the values is needed after.
    public struct CellTotals {
        public var totals: [Float]
        public var detected: [Int]
    }

    /// `readCellsByGenes`, plus the per-cell totals when the file gave them in stored order (coordinate entries grouped
    /// by cell with genes ascending, as Cell Ranger writes them); nil otherwise.
    public static func readCellsByGenesWithTotals(path: String, expect: MatrixMarketExpectedShape? = nil, allowPattern: Bool = true,
                                                  progress: Bool = false) throws -> (MatrixMarketHeader, CSRMatrix, CellTotals?) {
        // Gunzipped on a second thread while this one parses (the inflate is most of the reading time).
        let r = try LineChunks(path: path)
        defer { r.close() }
        let h = try readHeader(r)
        if h.field == .pattern && !allowPattern {
            throw PVError.badInput(file: r.name, line: 1, "a 'pattern' matrix holds no counts; an integer or real count matrix is needed")
        }
        if let e = expect { try checkShape(h, e, name: r.name) }
        let p = progress && h.entries >= 1 << 20 ? Progress("reading \(r.name)", total: h.entries, unit: "entries") : nil
        let m: CSRMatrix
        var sums: CellTotals? = nil
        switch h.format {
        case .coordinate: (m, sums) = try readCoordinate(r, h, progress: p, path: path)
        case .array: m = try readArray(r, h, progress: p)
        }
        p?.finish()
        return (h, m, sums)
    }

    static func checkShape(_ h: MatrixMarketHeader, _ e: MatrixMarketExpectedShape, name: String) throws {
        if h.rows == e.genes && h.cols == e.cells { return }
        if h.rows == e.cells && h.cols == e.genes && e.cells != e.genes {
            throw PVError.badInput(file: name, line: h.sizeLine,
                                   "matrix is \(h.rows) x \(h.cols), which looks transposed: 10x matrices are genes x cells (\(e.genes) genes in \(e.genesFile), \(e.cells) barcodes in \(e.cellsFile))")
        }
        if h.rows != e.genes {
            throw PVError.badInput(file: name, line: h.sizeLine,
                                   "matrix declares \(h.rows) rows (genes) but \(e.genesFile) lists \(e.genes) genes")
        }
        throw PVError.badInput(file: name, line: h.sizeLine,
                               "matrix declares \(h.cols) columns (cells) but \(e.cellsFile) lists \(e.cells) barcodes")
    }

    // MARK: coordinate

    private static func readCoordinate(_ r: LineChunks, _ h: MatrixMarketHeader, progress: Progress?, path: String) throws -> (CSRMatrix, CellTotals?) {
        let name = r.name
        let nGenes = h.rows, nCells = h.cols
        let cap = min(h.entries, 1 << 28)
        var genes = [Int32](); genes.reserveCapacity(cap)
        var vals = [Float](); vals.reserveCapacity(cap)
        var cellsArr: [Int32]? = nil            // only materialised once entries are seen out of cell order
        let cp = UnsafeMutablePointer<Int>.allocate(capacity: nCells + 1)   // entries per cell, at [cell + 1]
        cp.initialize(repeating: 0, count: nCells + 1)
        defer { cp.deallocate() }
        // Entries are staged in small blocks (cache-resident) and appended to the arrays a block at a time.
        let block = 1 << 16
        let sg = UnsafeMutablePointer<Int32>.allocate(capacity: block), sc = UnsafeMutablePointer<Int32>.allocate(capacity: block)
        let sv = UnsafeMutablePointer<Float>.allocate(capacity: block)
        defer { sg.deallocate(); sc.deallocate(); sv.deallocate() }
        var ns = 0
        // Per-cell sum and positive entries, kept while cells come grouped (then each cell's run is its stored row).
        let cellSum = UnsafeMutablePointer<Double>.allocate(capacity: nCells), cellPos = UnsafeMutablePointer<Int>.allocate(capacity: nCells)
        cellSum.initialize(repeating: 0, count: nCells); cellPos.initialize(repeating: 0, count: nCells)
        defer { cellSum.deallocate(); cellPos.deallocate() }
        var curSum = 0.0, curPos = 0
        var lastCell = -1, lastGene = -1
        var rowsSorted = true                   // genes ascending within each cell so far (10x writes them so)
        var seen = 0
        var zeros = 0
        let want = h.field == .pattern ? 2 : 3
        let isInt = h.field == .integer
        let entries = h.entries
        var line = r.lineNumber
        while let chunk = try r.nextChunk() {
            var p = chunk.baseAddress!
            let end = p + chunk.count
            while p < end {
                var g = 0, c = 0
                var v: Float = 1
                // Fast path: "ROW COL VALUE\n" (or "ROW COL\n" for pattern), unsigned decimal integers of at most 9
                // digits separated by single spaces, indices in range. Every chunk ends with a newline, so the
                // digit loops stop inside it. Anything else takes the general path below, which validates and
                // reports errors with the line number.
                var q = p
                var fast = false
                var d = Int(q.pointee) &- 48
                if UInt(bitPattern: d) < 10 {
                    var n = 0
                    repeat { g = g &* 10 &+ d; q += 1; n += 1; d = Int(q.pointee) &- 48 } while UInt(bitPattern: d) < 10
                    if n <= 9 && q.pointee == 32 {
                        q += 1; d = Int(q.pointee) &- 48; n = 0
                        while UInt(bitPattern: d) < 10 { c = c &* 10 &+ d; q += 1; n += 1; d = Int(q.pointee) &- 48 }
                        if n >= 1 && n <= 9 {
                            if want == 2 {
                                fast = q.pointee == 10
                            } else if q.pointee == 32 {
                                q += 1; d = Int(q.pointee) &- 48; n = 0
                                var u = 0
                                while UInt(bitPattern: d) < 10 { u = u &* 10 &+ d; q += 1; n += 1; d = Int(q.pointee) &- 48 }
                                fast = n >= 1 && n <= 9 && q.pointee == 10
                                v = Float(u)
                            }
                        }
                    }
                }
                if fast && g >= 1 && g <= nGenes && c >= 1 && c <= nCells {
                    g -= 1; c -= 1
                    line += 1
                    p = q + 1
                } else {
                    let nl = UnsafePointer(memchr(p, 0x0a, end - p)!.assumingMemoryBound(to: UInt8.self))
                    var l = UnsafeBufferPointer(start: p, count: nl - p)
                    if l.count > 0 && l[l.count - 1] == 0x0d { l = UnsafeBufferPointer(rebasing: l.dropLast()) }
                    p = nl + 1
                    line += 1
                    r.lineNumber = line
                    var t = Tokens(l)
                    guard let gTok = t.next() else { continue }                 // blank line
                    if gTok.first == UInt8(ascii: "%") { continue }            // stray comment
                    guard let cTok = t.next() else {
                        throw PVError.badInput(file: name, line: line, "expected \(want) fields 'row column\(want == 3 ? " value" : "")', found 1")
                    }
                    let vTok = want == 3 ? t.next() : nil
                    if want == 3 && vTok == nil {
                        throw PVError.badInput(file: name, line: line, "expected 3 fields 'row column value', found 2")
                    }
                    if t.next() != nil {
                        throw PVError.badInput(file: name, line: line,
                                               "expected \(want) fields 'row column\(want == 3 ? " value" : "")', found more")
                    }
                    g = try index(gTok, limit: nGenes, what: "row", dim: "rows", r)
                    c = try index(cTok, limit: nCells, what: "column", dim: "columns", r)
                    v = 1
                    if let vTok { v = try value(vTok, integer: isInt, r) }
                }
                if seen == entries {
                    throw PVError.badInput(file: name, line: line, "more entries than the \(entries) declared in the size line (line \(h.sizeLine))")
                }
                if v == 0 { zeros += 1 }
                if c == lastCell {
                    if g <= lastGene { rowsSorted = false }
                } else {
                    if lastCell >= 0 { cellSum[lastCell] = curSum; cellPos[lastCell] = curPos }
                    curSum = 0; curPos = 0
                }
                curSum += Double(v)
                if v > 0 { curPos += 1 }
                if c < lastCell && cellsArr == nil {
                    // Entries out of cell order: rebuild the cell of every entry so far (they were sorted) and keep going.
                    flushStaged(&genes, &vals, &cellsArr, sg, sv, sc, &ns, progress)
                    var arr = [Int32](); arr.reserveCapacity(cap)
                    for cell in 0..<nCells where cp[cell + 1] > 0 {
                        arr.append(contentsOf: repeatElement(Int32(cell), count: cp[cell + 1]))
                    }
                    cellsArr = arr
                }
                lastCell = c; lastGene = g
                cp[c + 1] += 1
                sg[ns] = Int32(truncatingIfNeeded: g); sc[ns] = Int32(truncatingIfNeeded: c); sv[ns] = v
                ns += 1
                seen += 1
                if ns == block { flushStaged(&genes, &vals, &cellsArr, sg, sv, sc, &ns, progress) }
            }
        }
        flushStaged(&genes, &vals, &cellsArr, sg, sv, sc, &ns, progress)
        if lastCell >= 0 { cellSum[lastCell] = curSum; cellPos[lastCell] = curPos }
        r.lineNumber = line
        if seen < h.entries {
            throw PVError.badInput(file: name, line: r.lineNumber,
                                   "file ends after \(seen) of the \(h.entries) entries declared in the size line (line \(h.sizeLine)): truncated?")
        }
        var counts = Array(UnsafeBufferPointer(start: cp, count: nCells + 1))
        for i in 0..<nCells { counts[i + 1] += counts[i] }
        var m: CSRMatrix
        if let cells = cellsArr {
            // Stable counting sort by cell.
            var next = counts
            var ci = [Int32](repeating: 0, count: seen)
            var cv = [Float](repeating: 0, count: seen)
            for k in 0..<seen {
                let c = Int(cells[k]); let d = next[c]; next[c] = d + 1
                ci[d] = genes[k]; cv[d] = vals[k]
            }
            genes = []; vals = []
            m = CSRMatrix(rows: nCells, cols: nGenes, rowPtr: counts, colIdx: ci, values: cv)
        } else {
            m = CSRMatrix(rows: nCells, cols: nGenes, rowPtr: counts, colIdx: genes, values: vals)
            genes = []; vals = []
        }
        // Rows need sorting (and a duplicate search) unless the file gave each cell's genes ascending, in one run.
        if (cellsArr != nil || !rowsSorted), let (g, c) = sortRowsFindDuplicate(&m) {
            if path == "-" { throw PVError.badInput(file: name, "duplicate entry for row \(g + 1), column \(c + 1)") }
            let lines = try duplicateLines(path: path, gene: g, cell: c)
            throw PVError.badInput(file: name, line: lines.1,
                                   "duplicate entry for row \(g + 1), column \(c + 1) (first on line \(lines.0))")
        }
        if zeros > 0 { m.dropZeros() }
        // Rows as stored are the cells' runs in file order only when nothing was reordered.
        let sums = cellsArr == nil && rowsSorted
            ? CellTotals(totals: (0..<nCells).map { Float(cellSum[$0]) }, detected: Array(UnsafeBufferPointer(start: cellPos, count: nCells)))
            : nil
        return (m, sums)
    }

    /// Moves the staged entries onto the end of the arrays (and their cells, once entries came out of cell order).
    @inline(never)
    private static func flushStaged(_ genes: inout [Int32], _ vals: inout [Float], _ cells: inout [Int32]?,
                                    _ sg: UnsafeMutablePointer<Int32>, _ sv: UnsafeMutablePointer<Float>,
                                    _ sc: UnsafeMutablePointer<Int32>, _ ns: inout Int, _ progress: Progress?) {
        if ns == 0 { return }
        genes.append(contentsOf: UnsafeBufferPointer(start: sg, count: ns))
        vals.append(contentsOf: UnsafeBufferPointer(start: sv, count: ns))
        cells?.append(contentsOf: UnsafeBufferPointer(start: sc, count: ns))
        progress?.advance(ns)
        ns = 0
    }

    /// Sorts each row's columns ascending (in place, only rows not yet sorted); returns the first duplicate (gene, cell).
    static func sortRowsFindDuplicate(_ m: inout CSRMatrix) -> (Int, Int)? {
        var dupCell = Int.max
        var dupGene = 0
        let lock = NSLock()
        let rowPtr = m.rowPtr
        m.colIdx.withUnsafeMutableBufferPointer { cp in
            m.values.withUnsafeMutableBufferPointer { vp in
                let cpp = cp, vpp = vp
                Parallel.chunks(m.rows, minChunk: 4096) { range in
                    var pairs: [(Int32, Float)] = []
                    for r in range {
                        let lo = rowPtr[r], hi = rowPtr[r + 1]
                        if hi - lo < 2 { continue }
                        var sorted = true
                        for k in (lo + 1)..<hi where cpp[k] <= cpp[k - 1] { sorted = false; break }
                        if !sorted {
                            pairs.removeAll(keepingCapacity: true)
                            for k in lo..<hi { pairs.append((cpp[k], vpp[k])) }
                            pairs.sort { $0.0 < $1.0 }
                            for (i, p) in pairs.enumerated() { cpp[lo + i] = p.0; vpp[lo + i] = p.1 }
                        }
                        for k in (lo + 1)..<hi where cpp[k] == cpp[k - 1] {
                            lock.lock()
                            if r < dupCell { dupCell = r; dupGene = Int(cpp[k]) }
                            lock.unlock()
                            break
                        }
                    }
                }
            }
        }
        return dupCell == Int.max ? nil : (dupGene, dupCell)
    }

    /// Line numbers of the first two entries at (gene, cell), 0-based indices; found by a second pass (errors only).
    static func duplicateLines(path: String, gene: Int, cell: Int) throws -> (Int, Int) {
        let r = try LineReader(path: path)
        _ = try readHeader(r)
        var first = 0
        while let line = try r.next() {
            var t = Tokens(line)
            guard let a = t.next(), let b = t.next(), let g = parseUInt(a), let c = parseUInt(b) else { continue }
            if g == gene + 1 && c == cell + 1 {
                if first == 0 { first = r.lineNumber } else { return (first, r.lineNumber) }
            }
        }
        return (first, first)
    }

    // MARK: array

    private static func readArray<R: LineSource>(_ r: R, _ h: MatrixMarketHeader, progress: Progress?) throws -> CSRMatrix {
        let name = r.name
        let nGenes = h.rows, nCells = h.cols
        var ptr = [Int](repeating: 0, count: nCells + 1)
        var ci = [Int32](), cv = [Float]()
        let isInt = h.field == .integer
        var seen = 0
        var tick = 0
        while let line = try r.next() {
            var t = Tokens(line)
            guard let tok = t.next() else { continue }
            if tok.first == UInt8(ascii: "%") { continue }
            if t.next() != nil { throw PVError.badInput(file: name, line: r.lineNumber, "expected one value per line in an array-format matrix") }
            let v = try value(tok, integer: isInt, r)
            if seen == h.entries {
                throw PVError.badInput(file: name, line: r.lineNumber, "more values than the \(nGenes) x \(nCells) declared in the size line (line \(h.sizeLine))")
            }
            let cell = seen / max(nGenes, 1), gene = seen - cell * nGenes
            if v != 0 { ci.append(Int32(gene)); cv.append(v) }
            ptr[cell + 1] = ci.count
            seen += 1
            tick += 1
            if tick == 1 << 16, let progress { progress.advance(tick); tick = 0 }
        }
        if let progress, tick > 0 { progress.advance(tick) }
        if seen < h.entries {
            throw PVError.badInput(file: name, line: r.lineNumber,
                                   "file ends after \(seen) of the \(h.entries) values declared in the size line (line \(h.sizeLine)): truncated?")
        }
        for c in 0..<nCells where ptr[c + 1] < ptr[c] { ptr[c + 1] = ptr[c] }
        return CSRMatrix(rows: nCells, cols: nGenes, rowPtr: ptr, colIdx: ci, values: cv)
    }

    // MARK: tokens and numbers

    @inline(__always)
    static func index<R: LineSource>(_ tok: UnsafeBufferPointer<UInt8>, limit: Int, what: String, dim: String, _ r: R) throws -> Int {
        guard let v = parseUInt(tok) else {
            throw PVError.badInput(file: r.name, line: r.lineNumber, "\(what) index '\(text(tok))' is not a positive integer")
        }
        if v == 0 { throw PVError.badInput(file: r.name, line: r.lineNumber, "\(what) index 0: Matrix Market indices are 1-based") }
        if v > limit { throw PVError.badInput(file: r.name, line: r.lineNumber, "\(what) index \(v) exceeds the declared \(limit) \(dim)") }
        return v - 1
    }

    @inline(__always)
    static func value<R: LineSource>(_ tok: UnsafeBufferPointer<UInt8>, integer: Bool, _ r: R) throws -> Float {
        if let u = parseUInt(tok) { return Float(u) }
        if integer {
            if tok.first == UInt8(ascii: "-"), let u = parseUInt(UnsafeBufferPointer(rebasing: tok.dropFirst())) {
                if u == 0 { return 0 }
                throw PVError.badInput(file: r.name, line: r.lineNumber, "negative count -\(u) (counts must be >= 0)")
            }
            throw PVError.badInput(file: r.name, line: r.lineNumber, "value '\(text(tok))' is not an integer (the header declares an integer matrix)")
        }
        guard let d = parseDouble(tok) else {
            throw PVError.badInput(file: r.name, line: r.lineNumber, "value '\(text(tok))' is not a number")
        }
        let f = Float(d)
        if !d.isFinite || !f.isFinite {
            throw PVError.badInput(file: r.name, line: r.lineNumber, "non-finite value '\(text(tok))' (counts must be finite)")
        }
        if d < 0 { throw PVError.badInput(file: r.name, line: r.lineNumber, "negative value \(text(tok)) (counts must be >= 0)") }
        return f
    }

    static func text(_ tok: UnsafeBufferPointer<UInt8>) -> String { clip(String(decoding: tok, as: UTF8.self)) }

    static func clip(_ s: String) -> String { s.count > 60 ? String(s.prefix(60)) + "..." : s }

    /// A decimal unsigned integer of at most 18 digits, nothing else.
    @inline(__always)
    public static func parseUInt(_ tok: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = tok.count
        if n == 0 || n > 18 { return nil }
        var v = 0
        for i in 0..<n {
            let d = Int(tok[i]) &- 48
            if d < 0 || d > 9 { return nil }
            v = v &* 10 &+ d
        }
        return v
    }

    static let pow10: [Double] = (0...22).map { pow(10.0, Double($0)) }

    /// A decimal floating-point number: a fast exact path for up to 15 significant digits and small exponents
    /// (correctly rounded, as strtod), strtod for anything else (long mantissas, nan, inf, hex).
    public static func parseDouble(_ tok: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = tok.count
        if n == 0 { return nil }
        var i = 0
        var neg = false
        if tok[0] == UInt8(ascii: "-") || tok[0] == UInt8(ascii: "+") { neg = tok[0] == UInt8(ascii: "-"); i = 1 }
        var mant: UInt64 = 0
        var digits = 0, fracDigits = 0
        var sawDigit = false
        while i < n, tok[i] >= 48, tok[i] <= 57 {
            if mant != 0 || tok[i] != 48 { digits += 1 }
            mant = mant &* 10 &+ UInt64(tok[i] - 48); i += 1; sawDigit = true
        }
        if i < n && tok[i] == UInt8(ascii: ".") {
            i += 1
            while i < n, tok[i] >= 48, tok[i] <= 57 {
                if mant != 0 || tok[i] != 48 { digits += 1 }
                mant = mant &* 10 &+ UInt64(tok[i] - 48); i += 1; fracDigits += 1; sawDigit = true
            }
        }
        var exp = 0
        var fast = sawDigit && digits <= 15
        if sawDigit && i < n && (tok[i] == UInt8(ascii: "e") || tok[i] == UInt8(ascii: "E")) {
            i += 1
            var eneg = false
            if i < n && (tok[i] == UInt8(ascii: "-") || tok[i] == UInt8(ascii: "+")) { eneg = tok[i] == UInt8(ascii: "-"); i += 1 }
            var e = 0, ed = 0
            while i < n, tok[i] >= 48, tok[i] <= 57 { if e < 100000 { e = e * 10 + Int(tok[i] - 48) }; i += 1; ed += 1 }
            if ed == 0 { fast = false }
            exp = eneg ? -e : e
        }
        if fast && i == n {
            let e10 = exp - fracDigits
            var d = Double(mant)
            if e10 == 0 {
            } else if e10 > 0 && e10 <= 22 { d *= pow10[e10] }
            else if e10 < 0 && e10 >= -22 { d /= pow10[-e10] }
            else { return strtodToken(tok) }
            return neg ? -d : d
        }
        return strtodToken(tok)
    }

    static func strtodToken(_ tok: UnsafeBufferPointer<UInt8>) -> Double? {
        if tok.count > 100 { return nil }
        var buf = [CChar](repeating: 0, count: tok.count + 1)
        for i in 0..<tok.count { buf[i] = CChar(bitPattern: tok[i]) }
        return buf.withUnsafeMutableBufferPointer { b -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            let d = strtod(b.baseAddress!, &end)
            guard let end, end - b.baseAddress! == tok.count else { return nil }
            return d
        }
    }
}

/// Whitespace-separated tokens of one line (spaces and tabs), as byte slices.
struct Tokens {
    let line: UnsafeBufferPointer<UInt8>
    var pos = 0
    init(_ line: UnsafeBufferPointer<UInt8>) { self.line = line }

    var isBlank: Bool { line.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 } }

    @inline(__always)
    mutating func next() -> UnsafeBufferPointer<UInt8>? {
        let n = line.count
        while pos < n && (line[pos] == 32 || line[pos] == 9) { pos += 1 }
        if pos == n { return nil }
        let s = pos
        while pos < n && line[pos] != 32 && line[pos] != 9 { pos += 1 }
        return UnsafeBufferPointer(rebasing: line[s..<pos])
    }

    mutating func all() -> [UnsafeBufferPointer<UInt8>] {
        var out: [UnsafeBufferPointer<UInt8>] = []
        while let t = next() { out.append(t) }
        return out
    }
}
