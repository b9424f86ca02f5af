import Foundation
import XCTest
import PVShared

/// Label canonicalisation and split.tsv validation.
final class ConditionsTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("cond") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func testCanonicalIsOrderInsensitive() {
        let s = LabelSyntax()
        XCTAssertEqual(s.canonical("A+B"), "A+B")
        XCTAssertEqual(s.canonical("B+A"), "A+B")
        XCTAssertEqual(s.canonical(" B + A "), "A+B")
        XCTAssertEqual(s.canonical("C+A+B"), "A+B+C")
        XCTAssertEqual(s.canonical("A+A"), "A", "a gene named twice is one target")
        XCTAssertEqual(s.canonical("KLF1"), "KLF1")
        XCTAssertEqual(s.canonical("ctrl"), "ctrl")
        XCTAssertEqual(s.canonical("ctrl+ctrl"), "ctrl")
        XCTAssertEqual(s.canonical("ctrl+KLF1"), "KLF1", "GEARS writes singles as ctrl+A")
        XCTAssertEqual(s.canonical("KLF1+ctrl"), "KLF1")
        XCTAssertEqual(s.canonical("b+B"), "B+b", "gene names are case-sensitive; sorted by code point as Python does")
        XCTAssertEqual(s.genes("B+A+ctrl"), ["A", "B"])
        XCTAssertEqual(s.genes("ctrl"), [])
    }

    func testCustomControlAndSeparator() {
        let s = LabelSyntax(control: "non-targeting", separator: "_")
        XCTAssertEqual(s.canonical("non-targeting"), "ctrl")
        XCTAssertEqual(s.canonical("KLF1_CEBPA"), "CEBPA+KLF1")
        XCTAssertEqual(s.canonical("non-targeting_KLF1"), "KLF1")
        XCTAssertEqual(s.canonical("ctrl"), "ctrl", "'ctrl' here is just a gene-like name that happens to be canonical control")
        let c = LabelSyntax(control: "NT", separator: ",")
        XCTAssertEqual(c.canonical("B,A"), "A+B")
        XCTAssertEqual(c.canonical("A+B"), "A+B", "with ',' as separator, 'A+B' is one name")
        XCTAssertEqual(c.genes("NT"), [])
        let e = LabelSyntax(control: "", separator: "+")
        XCTAssertEqual(e.canonical(""), "ctrl", "an empty label can be the control label")
        XCTAssertEqual(e.canonical("A"), "A")
        let none = LabelSyntax(control: "ctrl", separator: "")
        XCTAssertEqual(none.canonical("A+B"), "A+B")
        XCTAssertEqual(none.genes("A+B"), ["A+B"], "no separator: the label is one gene")
    }

    func testConditionNames() {
        XCTAssertEqual(Condition.name([]), "ctrl")
        XCTAssertEqual(Condition.name(["B", "A", "B"]), "A+B")
        XCTAssertEqual(Condition.genes("A+B"), ["A", "B"])
        XCTAssertEqual(Condition.genes("ctrl"), [])
    }

    private func split() -> SplitTable {
        SplitTable(barcodes: ["c1", "c2", "c3", "c4"], labels: ["ctrl", "B+A", "A", "C"],
                   conditions: ["ctrl", "A+B", "A", "C"], sets: ["train", "test", "train", "val"],
                   groups: ["ctrl", "seen2", "single", "single"])
    }

    func testSplitRoundTripAndQueries() throws {
        let p = dir.appendingPathComponent("split.tsv").path
        try split().write(p)
        let text = String(decoding: FormatTest.read(p), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("# "), "provenance first")
        XCTAssertTrue(text.contains("\nbarcode\tlabel\tcondition\tset\tgroup\nc1\tctrl\tctrl\ttrain\tctrl\n"))
        let s = try SplitTable(path: p)
        XCTAssertEqual(s.barcodes, split().barcodes)
        XCTAssertEqual(s.labels, split().labels)
        XCTAssertEqual(s.conditions, split().conditions)
        XCTAssertEqual(s.sets, split().sets)
        XCTAssertEqual(s.groups, split().groups)
        XCTAssertEqual(s.count, 4)
        XCTAssertEqual(s.rows(set: "train"), [0, 2])
        XCTAssertEqual(s.rows(set: "train", condition: "A"), [2])
        XCTAssertEqual(s.controlRows, [0])
        XCTAssertNoThrow(try s.check(rows: 4, exprName: "expr.npy"))
        assertPVError(exit: 65, "split.tsv: has 4 cells but expr.npy has 5 rows") { try s.check(rows: 5, exprName: "expr.npy") }
    }

    func testSplitExtraColumnsAndEmptySet() throws {
        let p = FormatTest.write("barcode\tlabel\tcondition\tset\tgroup\textra\nc1\tctrl\tctrl\t\tctrl\t9\n", "x.tsv", in: dir)
        let s = try SplitTable(path: p)
        XCTAssertEqual(s.sets, [""])
    }

    func testSplitValidationErrors() {
        let head = "# pv-split\nbarcode\tlabel\tcondition\tset\tgroup\n"
        func bad(_ body: String, _ name: String, _ msg: String, line: UInt = #line) {
            let p = FormatTest.write(head + body, name, in: dir)
            assertPVError(exit: 65, msg, line: line) { _ = try SplitTable(path: p) }
        }
        bad("c1\tctrl\tctrl\ttraining\tctrl\n", "set.tsv", "set.tsv:3: set must be train, val, test or empty, got 'training'")
        bad("c1\tctrl\tctrl\ttrain\tctrl\nc2\tB+A\tB+A\ttest\tx\n", "order.tsv",
            "order.tsv:4: condition 'B+A' is not canonical (genes sorted, joined by '+', or 'ctrl')")
        bad("c1\tA\tA+A\ttrain\tx\n", "dup.tsv", "dup.tsv:3: condition 'A+A' is not canonical")
        bad("c1\tA\t\ttrain\tx\n", "empty.tsv", "empty.tsv:3: condition '' is not canonical")
        bad("c1\tA\tA+ctrl\ttrain\tx\n", "actrl.tsv", "actrl.tsv:3: condition 'A+ctrl' is not canonical")
        bad("c1\tA\tctrl+A\ttrain\tx\n", "ctrla.tsv", "ctrla.tsv:3: condition 'ctrl+A' is not canonical")
        bad("", "none.tsv", "none.tsv: no cells in split table")
        let p = FormatTest.write("barcode\tlabel\tcondition\tset\nc1\tctrl\tctrl\ttrain\n", "nogroup.tsv", in: dir)
        assertPVError(exit: 65, "nogroup.tsv: no column 'group' (columns: barcode, label, condition, set)") { _ = try SplitTable(path: p) }
    }
}
