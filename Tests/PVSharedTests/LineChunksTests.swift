import Foundation
import XCTest
import PVShared

/// LineChunks (reading ahead on a second thread, chunks of whole lines) against LineReader, and the Matrix Market
/// fast path against the general one.
final class LineChunksTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("chunks") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    private func gz(_ text: String, _ name: String) throws -> String {
        let p = dir.appendingPathComponent(name).path
        let out = try OutputFile(p); let g = try GzipWriter(out); try g.write(text); try g.finish(); try out.commit()
        return p
    }

    private func readerLines(_ p: String) throws -> [[UInt8]] {
        let r = try LineReader(path: p)
        var out: [[UInt8]] = []
        while let l = try r.next() { out.append(Array(l)) }
        return out
    }

    func testLinesAndChunksMatchLineReaderAtEveryChunkSize() throws {
        var rng = RNG(seed: 11)
        var text = ""
        for i in 0..<400 {
            let n = Int(rng.next() % 40)
            text += String(repeating: Character(UnicodeScalar(97 + i % 26)!), count: n) + (i % 7 == 0 ? "\r\n" : "\n")
        }
        for (name, body) in [("end.txt", text), ("noend.txt", text + "last line"), ("empty.txt", ""), ("nl.txt", "\n")] {
            let plain = FormatTest.write(body, name, in: dir)
            let zipped = try gz(body, name + ".gz")
            let want = try readerLines(plain)
            for p in [plain, zipped] {
                for size in [2, 3, 7, 64, 1 << 20] {
                    for threaded in [false, true] {
                        // Line by line.
                        let a = LineChunks(try ByteSource(path: p), chunkSize: size, depth: 2, threaded: threaded)
                        var got: [[UInt8]] = []
                        while let l = try a.next() { got.append(Array(l)); XCTAssertEqual(a.lineNumber, got.count) }
                        a.close()
                        XCTAssertEqual(got, want, "\(name) \(p.hasSuffix(".gz") ? "gzip" : "plain") chunk \(size) threaded \(threaded)")
                        // Whole chunks: each ends with a newline, and they concatenate to the text (plus a final newline).
                        let b = LineChunks(try ByteSource(path: p), chunkSize: size, depth: 3, threaded: threaded)
                        var all: [UInt8] = []
                        _ = try b.next()                    // a line first, then the rest of its chunk
                        while let c = try b.nextChunk() { XCTAssertEqual(c.last, 0x0a); all += Array(c) }
                        b.close()
                        var expect = Array(body.utf8)
                        if !expect.isEmpty && expect.last != 0x0a { expect.append(0x0a) }
                        if let nl = expect.firstIndex(of: 0x0a) { expect.removeFirst(nl + 1) }
                        XCTAssertTrue(all == expect, "\(name) chunks of \(size): \(all.count) bytes, want \(expect.count)")
                    }
                }
            }
        }
    }

    func testErrorsArriveAfterTheLinesBeforeThem() throws {
        // A gzip stream cut short: every whole line before the cut is returned, then the truncation error.
        let text = (0..<5000).map { "line \($0)\n" }.joined()
        let p = try gz(text, "t.gz")
        let bytes = FormatTest.read(p)
        let cut = FormatTest.write(Array(bytes.dropLast(bytes.count / 3)), "cut.gz", in: dir)
        for threaded in [false, true] {
            let r = LineChunks(try ByteSource(path: cut), chunkSize: 256, depth: 2, threaded: threaded)
            var n = 0
            assertPVError(exit: 65, "truncated gzip stream") { while let l = try r.next() { XCTAssertEqual(String(decoding: l, as: UTF8.self), "line \(n)"); n += 1 } }
            r.close()
            XCTAssertGreaterThan(n, 100)
        }
    }

    func testCloseStopsTheReadingThread() throws {
        // Stop after one line of a file many chunks long: close() must release the reader (no hang, no leak).
        let p = try gz(String(repeating: "0123456789\n", count: 100_000), "big.gz")
        weak var weakReader: LineChunks?
        do {
            let r = LineChunks(try ByteSource(path: p), chunkSize: 1024, depth: 2, threaded: true)
            weakReader = r
            _ = try r.next()
            r.close()
        }
        let deadline = Date().addingTimeInterval(10)
        while weakReader != nil && Date() < deadline { usleep(10_000) }
        XCTAssertNil(weakReader, "the reading thread let go of the reader after close()")
    }

    // MARK: Matrix Market fast path

    /// Writes the entries with line forms that the fast path takes and ones it leaves to the general path (tabs,
    /// runs of spaces, CRLF, trailing blanks, long digit strings, comments, blank lines), and checks the CSR
    /// against the entries themselves.
    func testFastAndGeneralLinesReadTheSame() throws {
        var rng = RNG(seed: 5)
        let nGenes = 300, nCells = 200
        var dense = [Float](repeating: 0, count: nGenes * nCells)
        var text = ""
        var n = 0
        for c in 1...nCells {
            for g in 1...nGenes where rng.next() % 5 == 0 {
                let v = Int(rng.next() % 3000)               // some zeros (stored zeros are dropped), some > 255
                dense[(c - 1) * nGenes + g - 1] = Float(v)
                n += 1
                switch rng.next() % 12 {
                case 0: text += "\(g)\t\(c)\t\(v)\n"
                case 1: text += "\(g)  \(c) \(v)\r\n"
                case 2: text += "000000000\(g) \(c) 0000000000\(v)\n"
                case 3: text += "\(g) \(c) \(v) \n"
                case 4: text += "% a comment\n\n\(g) \(c) \(v)\n"
                default: text += "\(g) \(c) \(v)\n"
                }
            }
        }
        let head = "%%MatrixMarket matrix coordinate integer general\n\(nGenes) \(nCells) \(n)\n"
        for p in [FormatTest.write(head + text, "m.mtx", in: dir), try gz(head + text, "m.mtx.gz")] {
            let (_, m) = try MatrixMarket.readCellsByGenes(path: p)
            XCTAssertEqual(m.rows, nCells); XCTAssertEqual(m.cols, nGenes)
            XCTAssertEqual(m.dense(), dense)
            XCTAssertEqual(m.nnz, dense.filter { $0 != 0 }.count)
        }
    }

    func testErrorsOnFastPathLinesNameTheLine() throws {
        let head = "%%MatrixMarket matrix coordinate integer general\n% c\n3 2 3\n"
        let cases: [(String, String)] = [
            ("1 1 1\n4 1 2\n2 2 1\n", "m.mtx:5: row index 4 exceeds the declared 3 rows"),
            ("1 1 1\n1 3 2\n2 2 1\n", "m.mtx:5: column index 3 exceeds the declared 2 columns"),
            ("0 1 1\n", "m.mtx:4: row index 0: Matrix Market indices are 1-based"),
            ("1 1 1\n2 1 1\n3 1 1\n1 2 1\n", "m.mtx:7: more entries than the 3 declared in the size line (line 3)"),
            ("1 1 1\n2 1 1\n", "m.mtx:5: file ends after 2 of the 3 entries declared in the size line (line 3): truncated?"),
            ("1 1 1\n2 1 1\n1 1 5\n", "m.mtx:6: duplicate entry for row 1, column 1 (first on line 4)"),
            ("1 1 1\n2 1 x\n", "m.mtx:5: value 'x' is not an integer"),
        ]
        for (body, msg) in cases {
            let p = FormatTest.write(head + body, "m.mtx", in: dir)
            assertPVError(exit: 65, msg) { _ = try MatrixMarket.readCellsByGenes(path: p) }
        }
    }

    func testGenesOutOfOrderWithinACellAreSorted() throws {
        // Cells in order (no counting sort) but genes descending in one cell: the row is sorted, values follow.
        let (_, m) = try MatrixMarket.readCellsByGenes(path: FormatTest.write(
            "%%MatrixMarket matrix coordinate integer general\n4 2 5\n1 1 1\n3 1 3\n4 2 4\n2 2 2\n1 2 9\n", "o.mtx", in: dir))
        XCTAssertEqual(m.rowPtr, [0, 2, 5])
        XCTAssertEqual(m.colIdx, [0, 2, 0, 1, 3])
        XCTAssertEqual(m.values, [1, 3, 9, 2, 4])
    }
}

/// The per-cell totals the reader sums while parsing equal those summed after, when it returns them.
final class ReadTotalsTests: XCTestCase {
    func testReadTotalsEqualCellTotals() throws {
        let dir = TestSupport.tempDir("totals")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = RNG(seed: 9)
        var lines: [String] = []
        for c in 1...120 { for g in 1...50 where rng.next() % 3 == 0 {
            let v = rng.next() % 5 == 0 ? "\(Double(rng.next() % 10_000) / 7)" : "\(rng.next() % 40)"   // reals, zeros
            lines.append("\(g) \(c) \(v)")
        } }
        let head = "%%MatrixMarket matrix coordinate real general\n50 120 \(lines.count)\n"
        let sorted = FormatTest.write(head + lines.joined(separator: "\n") + "\n", "s.mtx", in: dir)
        let (_, m, sums) = try MatrixMarket.readCellsByGenesWithTotals(path: sorted)
        let want = Normalization.cellTotals(m)
        XCTAssertEqual(sums?.totals.map(\.bitPattern), want.totals.map(\.bitPattern))
        XCTAssertEqual(sums?.detected, want.detected)
        // Entries out of cell order, or genes out of order in a cell: no totals from the reader.
        var sh = lines
        sh.swapAt(0, sh.count - 1)
        let shuffled = FormatTest.write(head + sh.joined(separator: "\n") + "\n", "u.mtx", in: dir)
        XCTAssertNil(try MatrixMarket.readCellsByGenesWithTotals(path: shuffled).2)
        let swapped = FormatTest.write(head + [lines[1], lines[0]] .joined(separator: "\n") + "\n" + lines.dropFirst(2).joined(separator: "\n") + "\n", "w.mtx", in: dir)
        XCTAssertNil(try MatrixMarket.readCellsByGenesWithTotals(path: swapped).2)
    }
}
