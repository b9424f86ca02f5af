import XCTest
import PVShared

/// pv-split: every scheme's invariants on a simulated screen, on hand-made tables and on the real Norman subset;
/// determinism; label parsing; bad input.
final class SplitTests: XCTestCase {
    static var screen: URL?

    /// A small simulated screen (16 singles of 60 cells, 12 doubles, ctrl), made once.
    static func simulated() throws -> String {
        if let s = screen { return s.path + "/cells.tsv" }
        let d = TestSupport.tempDir("splitsim")
        let r = try TestSupport.run("pv-simulate", ["--cells-per-condition", "60", "--genes", "30", "--targets", "16",
                                                    "--doubles", "12", "--seed", "5", "--quiet", "--out", d.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        screen = d
        return d.path + "/cells.tsv"
    }

    /// Runs pv-split on `input` and reads the result.
    func split(_ input: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> (SplitTable, ToolResult) {
        let out = TestSupport.tempDir("split").appendingPathComponent("split.tsv").path
        let r = try TestSupport.run("pv-split", args + ["--out", out, input])
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        return (try SplitTable(path: out), r)
    }

    func write(_ text: String, _ name: String = "obs.tsv") -> String {
        let p = TestSupport.tempDir("splitin").appendingPathComponent(name).path
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    /// Conditions per set, and the sets each condition occurs in.
    func setsByCondition(_ t: SplitTable) -> [String: Set<String>] {
        var d: [String: Set<String>] = [:]
        for i in 0..<t.count { d[t.conditions[i], default: []].insert(t.sets[i]) }
        return d
    }

    func cellCount(_ t: SplitTable, _ cond: String, _ set: String) -> Int {
        (0..<t.count).filter { t.conditions[$0] == cond && t.sets[$0] == set }.count
    }

    /// Invariants of singles-to-doubles on any table.
    func checkSinglesToDoubles(_ t: SplitTable, holdoutSingles: Int = 14, holdoutCells: Int = 96) {
        let byCond = Dictionary(grouping: 0..<t.count) { t.conditions[$0] }
        let singles = byCond.keys.filter { Condition.genes($0).count == 1 }
        let seen = Set(singles)
        for (c, rows) in byCond {
            let g = Condition.genes(c)
            if g.isEmpty {
                XCTAssertTrue(rows.allSatisfy { t.sets[$0] == "train" && t.groups[$0] == "control" }, "controls train")
            } else if g.count == 1 {
                XCTAssertTrue(rows.allSatisfy { ["train", "val", "test"].contains(t.sets[$0]) && t.groups[$0] == "single" }, c)
                XCTAssertGreaterThan(cellCount(t, c, "train"), 0, c)
            } else if g.allSatisfy(seen.contains) {
                XCTAssertTrue(rows.allSatisfy { t.sets[$0] == "test" && t.groups[$0] == (g.count == 2 ? "double" : "multi") }, c)
            } else {
                XCTAssertTrue(rows.allSatisfy { t.sets[$0] == "" && t.groups[$0] == "unseen" }, c)
            }
        }
        // The largest singles lose min(holdoutCells, 20%) cells to test; the others none.
        let h = min(holdoutSingles, singles.count)
        let held = singles.filter { cellCount(t, $0, "test") > 0 }
        XCTAssertEqual(held.count, h)
        let minHeld = held.map { byCond[$0]!.count }.min() ?? 0
        for s in singles where !held.contains(s) { XCTAssertLessThanOrEqual(byCond[s]!.count, minHeld, "held-out singles are the largest") }
        for s in held {
            let n = byCond[s]!.count
            XCTAssertEqual(cellCount(t, s, "test"), min(holdoutCells, n / 5), s)
        }
        // Automatic val cells: 5% of the cells left after the test hold-out (at least 1 when 10 are left).
        for s in singles {
            let left = byCond[s]!.count - cellCount(t, s, "test")
            let want = left >= 10 ? max(1, Int((Double(left) * 0.05).rounded())) : 0
            XCTAssertEqual(cellCount(t, s, "val"), want, s)
        }
    }

    func testSinglesToDoublesOnSimulatedScreen() throws {
        let input = try Self.simulated()
        let (t, r) = try split(input, ["--seed", "1"])
        XCTAssertEqual(t.count, 29 * 60)
        let inputBarcodes = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.map { String($0.split(separator: "\t")[0]) }
        XCTAssertEqual(t.barcodes, inputBarcodes, "one row per input cell, in input order")
        checkSinglesToDoubles(t)
        // Every simulated double's genes are singles: all 12 doubles are test, none unseen.
        XCTAssertEqual(Set((0..<t.count).filter { t.groups[$0] == "double" }.map { t.conditions[$0] }).count, 12)
        XCTAssertTrue(r.stderr.contains("warning: small data: held out 12 instead of 96 cells in 14 of 14 held-out singles"), r.stderr)
        XCTAssertTrue(r.stderr.contains("test   double           12    720"), r.stderr)
    }

    func testSinglesToDoublesUnseenCombinationsAndOptions() throws {
        // A has 30 cells, B 20, C 10; D only in combinations; one triple.
        var rows = ["barcode\tlabel\tn_counts"]
        func add(_ label: String, _ n: Int) { for i in 0..<n { rows.append("\(label)-\(i)\t\(label)\t100") } }
        add("ctrl", 8); add("A", 30); add("B", 20); add("C", 10); add("B+A", 5); add("A+D", 4); add("A+B+C", 3); add("C+D", 2)
        let input = write(rows.joined(separator: "\n") + "\n")
        let (t, r) = try split(input, ["--holdout-singles", "2", "--holdout-cells", "4", "--val-cells", "2"])
        func sets(_ c: String) -> [String: Int] { Dictionary(grouping: (0..<t.count).filter { t.conditions[$0] == c }) { t.sets[$0] }.mapValues(\.count) }
        XCTAssertEqual(sets("A"), ["test": 4, "val": 2, "train": 24])
        XCTAssertEqual(sets("B"), ["test": 4, "val": 2, "train": 14])
        XCTAssertEqual(sets("C"), ["val": 2, "train": 8])
        XCTAssertEqual(sets("A+B"), ["test": 5])
        XCTAssertEqual(sets("A+B+C"), ["test": 3])
        XCTAssertEqual(sets("A+D"), ["": 4])
        XCTAssertEqual(sets("C+D"), ["": 2])
        XCTAssertEqual(Set((0..<t.count).filter { t.conditions[$0] == "A+B+C" }.map { t.groups[$0] }), ["multi"])
        XCTAssertEqual(t.labels[t.conditions.firstIndex(of: "A+B")!], "B+A", "the label column keeps the input label")
        XCTAssertTrue(r.stderr.contains("none   unseen            2      6"), r.stderr)
        XCTAssertFalse(r.stderr.contains("warning"), r.stderr)
        // --control-holdout moves a fraction of controls to test.
        let (t2, _) = try split(input, ["--control-holdout", "0.25"])
        XCTAssertEqual(cellCount(t2, "ctrl", "test"), 2)
        XCTAssertEqual(cellCount(t2, "ctrl", "train"), 6)
    }

    /// --val-doubles F: round(F x 12) of the simulated combinations go whole to val (group double), the rest stay
    /// test, every other assignment is the one without the option, and the choice follows the seed.
    func testValDoubles() throws {
        let input = try Self.simulated()
        let (base, _) = try split(input, ["--seed", "1"])
        let (t, _) = try split(input, ["--seed", "1", "--val-doubles", "0.3"])
        let doubles = Set((0..<t.count).filter { t.groups[$0] == "double" }.map { t.conditions[$0] })
        XCTAssertEqual(doubles.count, 12)
        let byCond = setsByCondition(t)
        let valDoubles = doubles.filter { byCond[$0] == ["val"] }
        XCTAssertEqual(valDoubles.count, 4, "round(0.3 x 12)")
        XCTAssertEqual(doubles.filter { byCond[$0] == ["test"] }.count, 8)
        for i in 0..<t.count where !valDoubles.contains(t.conditions[i]) {
            XCTAssertEqual(t.sets[i], base.sets[i], "row \(i) unchanged"); XCTAssertEqual(t.groups[i], base.groups[i])
        }
        let (t2, _) = try split(input, ["--seed", "2", "--val-doubles", "0.3"])
        let v2 = Set((0..<t2.count).filter { t2.groups[$0] == "double" && t2.sets[$0] == "val" }.map { t2.conditions[$0] })
        XCTAssertEqual(v2.count, 4)
        let (t3, _) = try split(input, ["--seed", "1", "--val-doubles", "0.3"])
        XCTAssertEqual(t3.sets, t.sets, "deterministic for a seed")
        let bad = try TestSupport.run("pv-split", ["--val-doubles", "1.5", "--out", "-", input])
        XCTAssertEqual(bad.status, 64, bad.stderr)
    }

    func testGearsSimulationOnSimulatedScreen() throws {
        let (t, _) = try split(try Self.simulated(), ["--scheme", "gears-simulation", "--seed", "3"])
        let sets = setsByCondition(t)
        for (c, s) in sets { XCTAssertEqual(s.count, 1, "\(c) is in one set only: \(s)") }
        XCTAssertEqual(sets["ctrl"], ["train"])
        let trainGenes = Set(sets.filter { $0.value == ["train"] && Condition.genes($0.key).count == 1 }.map(\.key))
        // 16 genes, all singles: int(16*0.75) = 12 training genes, then int(12*0.9) = 10 stay in train.
        XCTAssertEqual(trainGenes.count, 10)
        var groupOf: [String: String] = [:]
        for i in 0..<t.count { groupOf[t.conditions[i]] = t.groups[i] }
        let valGenes = Set(sets.filter { $0.value == ["val"] && Condition.genes($0.key).count == 1 }.map(\.key))
        XCTAssertEqual(valGenes.count, 2)
        XCTAssertEqual(sets.filter { $0.value == ["test"] && Condition.genes($0.key).count == 1 }.count, 4)
        for (c, s) in sets where c != "ctrl" {
            let g = Condition.genes(c), set = s.first!, group = groupOf[c]!
            switch set {
            case "train":
                XCTAssertTrue(g.allSatisfy(trainGenes.contains), "\(c): training conditions use training genes only")
                XCTAssertEqual(group, g.count == 1 ? "single" : "double")
            case "val", "test":
                // Genes known at this level: val is carved from train (train genes); test from train + val genes.
                let known = set == "val" ? trainGenes : trainGenes.union(valGenes)
                let k = g.filter(known.contains).count
                if g.count == 1 { XCTAssertEqual(group, "unseen_single", c); XCTAssertEqual(k, 0, c) }
                else { XCTAssertEqual(group, "combo_seen\(k)", c) }
            default: XCTFail("\(c) unused")
            }
        }
        XCTAssertTrue(groupOf.values.contains("combo_seen2") || groupOf.values.contains("combo_seen1"))
    }

    func testRandomCells() throws {
        let input = try Self.simulated()
        let (t, _) = try split(input, ["--scheme", "random-cells", "--val-frac", "0.1", "--test-frac", "0.2", "--control-holdout", "0.5"])
        for c in Set(t.conditions) {
            if c == "ctrl" {
                XCTAssertEqual(cellCount(t, c, "test"), 30); XCTAssertEqual(cellCount(t, c, "train"), 30)
                XCTAssertEqual(cellCount(t, c, "val"), 0)
            } else {
                XCTAssertEqual(cellCount(t, c, "test"), 12, c); XCTAssertEqual(cellCount(t, c, "val"), 6, c)
                XCTAssertEqual(cellCount(t, c, "train"), 42, c)
            }
        }
        for i in 0..<t.count { XCTAssertEqual(t.groups[i], sizeGroup(t.conditions[i])) }
    }

    func testCustomTable() throws {
        let input = write("c1\tA\nc2\tB\nc3\tA,B\nc4\tB,A\nc5\tnon-targeting\nc6\tC\n", "cells.tsv")
        let custom = write("condition\tset\nB,A\ttest\nA\ttrain\tmine\nB\tval\nC\tnone\n", "custom.tsv")
        let (t, r) = try split(input, ["--custom", custom, "--control", "non-targeting", "--sep", ","])
        XCTAssertEqual(t.conditions, ["A", "B", "A+B", "A+B", "ctrl", "C"])
        XCTAssertEqual(t.sets, ["train", "val", "test", "test", "train", ""])
        XCTAssertEqual(t.groups, ["mine", "single", "double", "double", "control", "single"])
        XCTAssertFalse(r.stderr.contains("warning"), r.stderr)
        // A condition left out of the table is unused, with a warning.
        let partial = write("A\ttrain\n", "partial.tsv")
        let (t2, r2) = try split(input, ["--scheme", "custom", "--custom", partial, "--control", "non-targeting", "--sep", ","])
        XCTAssertEqual(t2.sets, ["train", "", "", "", "train", ""])
        XCTAssertTrue(r2.stderr.contains("3 conditions not in the custom table"), r2.stderr)
    }

    func testLabelSyntaxAndEmptyControl() throws {
        let input = write("x1\t\nx2\tB_A\nx3\tA_B\nx4\tA\nx5\tB\n", "cells.tsv")
        let (t, _) = try split(input, ["--control", "", "--sep", "_", "--holdout-singles", "0"])
        XCTAssertEqual(t.conditions, ["ctrl", "A+B", "A+B", "A", "B"])
        XCTAssertEqual(t.sets, ["train", "test", "test", "train", "train"])
    }

    func testDeterminism() throws {
        let input = try Self.simulated()
        for scheme in ["singles-to-doubles", "gears-simulation", "random-cells"] {
            let a = try split(input, ["--scheme", scheme, "--seed", "4"]).0
            let b = try split(input, ["--scheme", scheme, "--seed", "4"]).0
            let c = try split(input, ["--scheme", scheme, "--seed", "5"]).0
            XCTAssertEqual(a.sets, b.sets, scheme); XCTAssertEqual(a.groups, b.groups, scheme)
            XCTAssertNotEqual(a.sets, c.sets, scheme)
        }
        // Same seed and command: byte-identical file.
        let d = TestSupport.tempDir("splitdet")
        let out = d.appendingPathComponent("s.tsv").path
        try TestSupport.run("pv-split", ["--seed", "9", "--out", out, input])
        let first = try Data(contentsOf: URL(fileURLWithPath: out))
        try TestSupport.run("pv-split", ["--seed", "9", "--out", out, input])
        XCTAssertEqual(first, try Data(contentsOf: URL(fileURLWithPath: out)))
    }

    func testNormanSubsetAllSchemes() throws {
        guard let dir = TestSupport.normanDir else { throw XCTSkip("real Norman subset not found at ../shared/data/norman2019-subset") }
        let input = dir + "/cells.tsv"
        let (t, r) = try split(input, [])
        XCTAssertEqual(t.count, 3375)
        checkSinglesToDoubles(t)
        let doubles = Set((0..<t.count).filter { t.groups[$0] == "double" }.map { t.conditions[$0] })
        XCTAssertEqual(doubles, ["KLF1+MAP2K6", "KLF1+TGFBR2", "MAP2K3+MAP2K6", "MAP2K3+SLC38A2", "MAPK1+TGFBR2"])
        XCTAssertTrue(r.stderr.contains("none   unseen           10    980"), r.stderr)
        let (g, _) = try split(input, ["--scheme", "gears-simulation"])
        for (c, s) in setsByCondition(g) { XCTAssertEqual(s.count, 1, c) }
        XCTAssertEqual(Set(g.groups).subtracting(["control", "single", "double", "unseen_single", "combo_seen0", "combo_seen1", "combo_seen2"]), [])
        let (rc, _) = try split(input, ["--scheme", "random-cells"])
        XCTAssertEqual(cellCount(rc, "KLF1", "test"), 10)
        let custom = write("KLF1\ttrain\nMAP2K6\ttrain\nMAP2K6+KLF1\ttest\nctrl\ttrain\n", "custom.tsv")
        let (cu, _) = try split(input, ["--custom", custom])
        XCTAssertEqual(setsByCondition(cu).filter { $0.value != [""] }, ["KLF1": ["train"], "MAP2K6": ["train"], "KLF1+MAP2K6": ["test"], "ctrl": ["train"]])
    }

    func testBadInput() throws {
        let d = TestSupport.tempDir("splitbad")
        let out = d.appendingPathComponent("split.tsv").path
        let good = write("a\tctrl\nb\tA\nc\tA+B\n", "cells.tsv")
        func expect(_ args: [String], _ status: Int32, _ message: String, line: UInt = #line) throws {
            let r = try TestSupport.run("pv-split", args)
            XCTAssertEqual(r.status, status, r.stderr, line: line)
            XCTAssertEqual(r.stderr, message, line: line)
            XCTAssertEqual(TestSupport.files(in: d), [], "no output left", line: line)
        }
        try expect(["--scheme", "bogus", "--out", out, good], 64,
                   "pv-split: option --scheme: expected one of singles-to-doubles, gears-simulation, random-cells, custom, got 'bogus'\n")
        let custom = write("A\ttrain\nA+C\ttest\n", "custom.tsv")
        try expect(["--custom", custom, "--out", out, good], 65, "pv-split: \(custom):2: condition 'A+C' does not occur in the input\n")
        let empty = write("# only a comment\n", "empty.tsv")
        try expect(["--out", out, empty], 65, "pv-split: \(empty): no cells (expected barcode<TAB>label rows)\n")
        let noLabel = write("barcode\tn_counts\na\t10\n", "obs.tsv")
        try expect(["--out", out, noLabel], 65, "pv-split: \(noLabel):1: no column 'label' in the header (columns: barcode, n_counts)\n")
        let oneCol = write("a\nb\n", "bc.tsv")
        try expect(["--out", out, oneCol], 65,
                   "pv-split: \(oneCol):1: missing label column: expected barcode<TAB>label (or a header naming 'barcode' and 'label')\n")
        let dup = write("a\tA\na\tB\n", "dup.tsv")
        try expect(["--out", out, dup], 65, "pv-split: \(dup):2: duplicate barcode a (first on line 1)\n")
        try expect(["--scheme", "custom", "--out", out, good], 64, "pv-split: --scheme custom needs --custom FILE (condition<TAB>set)\n")
        try expect(["--out", out, d.appendingPathComponent("missing.tsv").path], 66,
                   "pv-split: \(d.path)/missing.tsv: cannot open: No such file or directory\n")
        // An existing output is left untouched by a failed run.
        FileManager.default.createFile(atPath: out, contents: Data("old".utf8))
        let r = try TestSupport.run("pv-split", ["--out", out, empty])
        XCTAssertEqual(r.status, 65)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "old")
    }
}
