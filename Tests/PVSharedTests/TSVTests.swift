import Foundation
import XCTest
import PVShared

/// TSVTable, readFeatures, readBarcodes.
final class TSVTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("tsv") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    private func gz(_ text: String, _ name: String) throws -> String {
        let p = dir.appendingPathComponent(name).path
        let out = try OutputFile(p); let g = try GzipWriter(out); try g.write(text); try g.finish(); try out.commit()
        return p
    }

    func testSkipsProvenanceAndBlankLines() throws {
        let p = FormatTest.write("# pv-x 0.1\n# command: pv-x a\nbarcode\tlabel\nAAA\tctrl\n# a note\n\nCCC\tA+B\r\n", "t.tsv", in: dir)
        let t = try TSVTable(path: p)
        XCTAssertEqual(t.header, ["barcode", "label"])
        XCTAssertEqual(t.rows, [["AAA", "ctrl"], ["CCC", "A+B"]])
        XCTAssertEqual(t.lineNumbers, [4, 7], "line numbers count the skipped lines")
        XCTAssertEqual(try t.values("label"), ["ctrl", "A+B"])
        XCTAssertEqual(try t.column("label"), 1)
        XCTAssertNil(t.columnIfPresent("set"))
        XCTAssertEqual(t.name, p)
    }

    func testEmptyFieldsAreKept() throws {
        let p = FormatTest.write("a\tb\tc\n\t\t\nx\t\tz\n", "e.tsv", in: dir)
        let t = try TSVTable(path: p)
        XCTAssertEqual(t.rows, [["", "", ""], ["x", "", "z"]])
    }

    func testWrongFieldCountNamesFileAndLine() {
        let p = FormatTest.write("# prov\na\tb\tc\n1\t2\t3\n1\t2\n", "w.tsv", in: dir)
        let e = assertPVError(exit: 65) { _ = try TSVTable(path: p) }
        XCTAssertEqual(e?.description, "\(p):4: expected 3 tab-separated fields, found 2")
        let q = FormatTest.write("a\tb\n1\t2\t\n", "trail.tsv", in: dir)
        assertPVError(exit: 65, "trail.tsv:2: expected 2 tab-separated fields, found 3") { _ = try TSVTable(path: q) }
    }

    func testMissingColumn() throws {
        let p = FormatTest.write("barcode\tlabel\nA\tB\n", "m.tsv", in: dir)
        let t = try TSVTable(path: p)
        let e = assertPVError(exit: 65) { _ = try t.column("condition") }
        XCTAssertEqual(e?.description, "\(p): no column 'condition' (columns: barcode, label)")
        assertPVError(exit: 65, "no column 'set'") { _ = try t.values("set") }
    }

    func testEmptyAndHeaderless() throws {
        let e = FormatTest.write("", "e.tsv", in: dir)
        assertPVError(exit: 65, "e.tsv: empty file, expected a header row") { _ = try TSVTable(path: e) }
        let c = FormatTest.write("# only a comment\n", "c.tsv", in: dir)
        assertPVError(exit: 65, "empty file, expected a header row") { _ = try TSVTable(path: c) }
        let h = FormatTest.write("x\t1\ny\t2\n", "h.tsv", in: dir)
        let t = try TSVTable(path: h, hasHeader: false)
        XCTAssertEqual(t.header, ["1", "2"])
        XCTAssertEqual(t.rows, [["x", "1"], ["y", "2"]])
        XCTAssertEqual(t.lineNumbers, [1, 2])
        XCTAssertEqual(try TSVTable(path: e, hasHeader: false).rows.count, 0)
        assertPVError(exit: 66) { _ = try TSVTable(path: self.dir.appendingPathComponent("none.tsv").path) }
    }

    func testReadsGzipAndBOM() throws {
        let p = try gz("# prov\nid\tv\nx\t1\n", "t.tsv.gz")
        XCTAssertEqual(try TSVTable(path: p).rows, [["x", "1"]])
        let b = FormatTest.write([0xEF, 0xBB, 0xBF] + Array("barcode\tlabel\nA\tctrl\n".utf8), "bom.tsv", in: dir)
        XCTAssertEqual(try TSVTable(path: b).column("barcode"), 0, "an Excel BOM must not hide the first column")
    }

    func testWriteStartsWithProvenanceAndRoundTrips() throws {
        let saved = (ToolContext.name, ToolContext.commandLine)
        defer { (ToolContext.name, ToolContext.commandLine) = saved }
        ToolContext.name = "pv-test"; ToolContext.commandLine = "pv-test --out x.tsv in.tsv"
        var t = TSVTable(header: ["barcode", "label", "n"])
        t.rows = [["AAA-1", "ctrl", "3"], ["CCC-1", "A+B", ""], ["GGG-1", "é", "0"]]
        let p = dir.appendingPathComponent("o.tsv").path
        try t.write(p)
        let text = String(decoding: FormatTest.read(p), as: UTF8.self)
        // The run line is there once an output set has started in this (test) process; tools start one per run.
        let run = RunStamp.current.map { "# run: \($0)\n" } ?? ""
        XCTAssertEqual(text, "# pv-test \(pvVersion)\n# command: pv-test --out x.tsv in.tsv\n\(run)barcode\tlabel\tn\nAAA-1\tctrl\t3\nCCC-1\tA+B\t\nGGG-1\té\t0\n")
        let back = try TSVTable(path: p)
        XCTAssertEqual(back.header, t.header)
        XCTAssertEqual(back.rows, t.rows)
        XCTAssertEqual(t.text(provenance: false), "barcode\tlabel\tn\nAAA-1\tctrl\t3\nCCC-1\tA+B\t\nGGG-1\té\t0\n")
        XCTAssertEqual(FormatTest.temps(in: dir), [])
        // Into a missing folder: .io, nothing left anywhere.
        let bad = dir.appendingPathComponent("no/such/o.tsv").path
        assertPVError(exit: 74, "folder", "does not exist") { try t.write(bad) }
        XCTAssertEqual(TestSupport.files(in: dir), ["o.tsv"])
    }

    // MARK: 10x features and barcodes

    func testReadFeaturesOneTwoThreeColumns() throws {
        let one = FormatTest.write("ENSG1\nENSG2\n", "f1.tsv", in: dir)
        XCTAssertEqual(try readFeatures(one), [Feature(id: "ENSG1", symbol: "ENSG1", type: "Gene Expression"),
                                               Feature(id: "ENSG2", symbol: "ENSG2", type: "Gene Expression")])
        let two = FormatTest.write("ENSG1\tKLF1\nENSG2\tCEBPA\n", "f2.tsv", in: dir)
        XCTAssertEqual(try readFeatures(two).map(\.symbol), ["KLF1", "CEBPA"])
        let three = try gz("ENSG1\tKLF1\tGene Expression\nAB1\tCD4\tAntibody Capture\n", "features.tsv.gz")
        XCTAssertEqual(try readFeatures(three), [Feature(id: "ENSG1", symbol: "KLF1", type: "Gene Expression"),
                                                 Feature(id: "AB1", symbol: "CD4", type: "Antibody Capture")])
        let crlf = FormatTest.write("ENSG1\tKLF1\r\nENSG2\tCEBPA", "crlf.tsv", in: dir)
        XCTAssertEqual(try readFeatures(crlf).map(\.symbol), ["KLF1", "CEBPA"])
    }

    func testReadFeaturesErrors() {
        let mixed = FormatTest.write("ENSG1\tKLF1\nENSG2\n", "mixed.tsv", in: dir)
        assertPVError(exit: 65, "mixed.tsv:2: expected 2 tab-separated fields, found 1") { _ = try readFeatures(mixed) }
        let noid = FormatTest.write("ENSG1\tKLF1\n\tCEBPA\n", "noid.tsv", in: dir)
        assertPVError(exit: 65, "noid.tsv:2: empty gene id") { _ = try readFeatures(noid) }
        let blank = FormatTest.write("ENSG1\n\nENSG2\n", "blank.tsv", in: dir)
        assertPVError(exit: 65, "blank.tsv:2: empty line in features file") { _ = try readFeatures(blank) }
        let empty = FormatTest.write("", "empty.tsv", in: dir)
        assertPVError(exit: 65, "empty.tsv: empty features file") { _ = try readFeatures(empty) }
        assertPVError(exit: 66) { _ = try readFeatures(self.dir.appendingPathComponent("no.tsv").path) }
    }

    func testReadBarcodes() throws {
        let p = FormatTest.write("AAAC-1\nAAAG-1\tx\nAAAT-1", "b.tsv", in: dir)
        XCTAssertEqual(try readBarcodes(p), ["AAAC-1", "AAAG-1", "AAAT-1"])
        let g = try gz("AAAC-1\nAAAG-1\n", "barcodes.tsv.gz")
        XCTAssertEqual(try readBarcodes(g), ["AAAC-1", "AAAG-1"])
        let dup = FormatTest.write("AAAC-1\nAAAG-1\nAAAC-1\n", "dup.tsv", in: dir)
        let e = assertPVError(exit: 65) { _ = try readBarcodes(dup) }
        XCTAssertEqual(e?.description, "\(dup):3: duplicate barcode AAAC-1 (first on line 1)")
        let empty = FormatTest.write("AAAC-1\n\nAAAG-1\n", "emptyline.tsv", in: dir)
        assertPVError(exit: 65, "emptyline.tsv:2: empty barcode") { _ = try readBarcodes(empty) }
        let none = FormatTest.write("", "none.tsv", in: dir)
        assertPVError(exit: 65, "none.tsv: empty barcodes file") { _ = try readBarcodes(none) }
    }
}
