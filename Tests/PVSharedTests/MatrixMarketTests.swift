import XCTest
import PVShared

/// The Matrix Market reader on its own: layouts, number parsing, CSR by cell, stored zeros, duplicates.
final class MatrixMarketTests: XCTestCase {
    func write(_ s: String) throws -> String {
        let p = TestSupport.tempDir("mm").appendingPathComponent("m.mtx").path
        try s.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    func read(_ s: String) throws -> (MatrixMarketHeader, CSRMatrix) {
        try MatrixMarket.readCellsByGenes(path: try write(s))
    }

    func testCoordinateToCSRByCell() throws {
        // genes x cells = 3 x 2; entries out of order, a stored zero, a blank line, CRLF and tabs.
        let (h, m) = try read("%%MatrixMarket matrix coordinate integer general\r\n%c\n\n3 2 5\n3 2 4\r\n1 1 2\n2\t2\t0\n\n2 1 7\n1 2 1\n")
        XCTAssertEqual(h, MatrixMarketHeader(format: .coordinate, field: .integer, rows: 3, cols: 2, entries: 5, sizeLine: 4))
        XCTAssertEqual(m.rows, 2); XCTAssertEqual(m.cols, 3)
        XCTAssertEqual(m.rowPtr, [0, 2, 4])
        XCTAssertEqual(m.colIdx, [0, 1, 0, 2])
        XCTAssertEqual(m.values, [2, 7, 1, 4])
        XCTAssertEqual(m.dense(), [2, 7, 0, 1, 0, 4])
    }

    func testArrayAndRealAndPattern() throws {
        let (ha, a) = try read("%%MatrixMarket matrix array real general\n2 3\n1.5\n0\n0\n2e1\n3\n.25\n")
        XCTAssertEqual(ha.format, .array); XCTAssertEqual(ha.entries, 6)
        XCTAssertEqual(a.dense(), [1.5, 0, 0, 20, 3, 0.25])   // cells x genes
        XCTAssertEqual(a.nnz, 4)
        let (hp, p) = try read("%%matrixmarket MATRIX Coordinate Pattern General\n2 2 2\n1 2\n2 1\n")
        XCTAssertEqual(hp.field, .pattern)
        XCTAssertEqual(p.dense(), [0, 1, 1, 0])
        XCTAssertThrowsError(try MatrixMarket.readCellsByGenes(path: try write("%%MatrixMarket matrix coordinate pattern general\n2 2 1\n1 1\n"), allowPattern: false))
    }

    func testExpectedShape() throws {
        let p = try write("%%MatrixMarket matrix coordinate integer general\n3 2 1\n1 1 1\n")
        XCTAssertNoThrow(try MatrixMarket.readCellsByGenes(path: p, expect: .init(genes: 3, genesFile: "f", cells: 2, cellsFile: "b")))
        XCTAssertThrowsError(try MatrixMarket.readCellsByGenes(path: p, expect: .init(genes: 3, genesFile: "f", cells: 5, cellsFile: "b"))) { e in
            XCTAssertEqual((e as? PVError)?.description, "\(p):2: matrix declares 2 columns (cells) but b lists 5 barcodes")
        }
    }

    func testDeclaringMoreEntriesThanCellsIsRejected() throws {
        let p = try write("%%MatrixMarket matrix coordinate integer general\n2 2 5\n")
        XCTAssertThrowsError(try MatrixMarket.readCellsByGenes(path: p)) { e in
            XCTAssertEqual((e as? PVError)?.description, "\(p):2: declares 5 entries, more than rows x columns = 4")
        }
    }

    func testParseDoubleAgreesWithStrtod() {
        var rng = RNG(seed: 7)
        var cases = ["0", "1", "0.1", "3.14159", "1e-5", "2.5E+3", "123456789012345", "1234567890123456789", "0.000001",
                     "7.0e-23", "1e22", "1e23", "9007199254740993", "+4.5", ".5", "5.", "00012", "4.9406564584124654e-324",
                     "1.7976931348623157e308", "0.30000000000000004", "inf", "nan"]
        for _ in 0..<2000 {
            let mant = rng.next() % 10_000_000_000
            let e = Int(rng.next() % 40) - 20
            cases.append("\(mant)e\(e)")
            cases.append(String(format: "%.*f", Int(rng.next() % 12), Double(mant) / 1e5))
        }
        for s in cases {
            let bytes = Array(s.utf8)
            let got = bytes.withUnsafeBufferPointer { MatrixMarket.parseDouble($0) }
            let want = strtod(s, nil)
            if want.isNaN { XCTAssertTrue(got?.isNaN == true, s); continue }
            XCTAssertEqual(got, want, s)
        }
        for bad in ["", "abc", "1.2.3", "1e", "--1", "1x", "e5"] {
            XCTAssertNil(Array(bad.utf8).withUnsafeBufferPointer { MatrixMarket.parseDouble($0) }, bad)
        }
    }

    func testShuffledEntriesEqualSortedOnes() throws {
        // A larger random matrix written sorted and shuffled reads to the same CSR.
        var rng = RNG(seed: 3)
        var entries: [(Int, Int, Int)] = []
        for c in 1...50 { for g in 1...30 where rng.next() % 4 == 0 { entries.append((g, c, Int(rng.next() % 20) + 1)) } }
        let head = "%%MatrixMarket matrix coordinate integer general\n30 50 \(entries.count)\n"
        let sorted = try read(head + entries.map { "\($0.0) \($0.1) \($0.2)\n" }.joined()).1
        var sh = entries
        for i in stride(from: sh.count - 1, to: 0, by: -1) { sh.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        let shuffled = try read(head + sh.map { "\($0.0) \($0.1) \($0.2)\n" }.joined()).1
        XCTAssertEqual(sorted.rowPtr, shuffled.rowPtr)
        XCTAssertEqual(sorted.colIdx, shuffled.colIdx)
        XCTAssertEqual(sorted.values, shuffled.values)
        XCTAssertEqual(sorted.nnz, entries.count)
    }
}
