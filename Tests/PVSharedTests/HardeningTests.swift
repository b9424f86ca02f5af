import Foundation
import XCTest
import PVShared

/// Issue 10: strict labels (item 6), one-line error messages with escaped input (item 7 and minor items).
final class HardeningTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("hard") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    // MARK: labels

    func testEmptyGeneNamesAndControlCharactersAreProblems() {
        let s = LabelSyntax()
        for bad in ["+", "T01+", "+T02", "T01++T02", " + ", "T01+ +T02", ""] {
            XCTAssertNotNil(s.problem(bad), "'\(bad)' is malformed")
        }
        XCTAssertTrue(s.problem("T01+")!.contains("empty gene name"), s.problem("T01+")!)
        for bad in ["T0\u{0}1", "A\nB", "A+B\u{1b}", "A\u{7f}"] {
            XCTAssertTrue(s.problem(bad)?.contains("control character") ?? false, bad)
        }
        for good in ["ctrl", "T01", "T01+T02", " B + A ", "ctrl+KLF1", "A+A"] { XCTAssertNil(s.problem(good), good) }
        XCTAssertNil(LabelSyntax(control: "").problem(""), "an empty label is the control when --control ''")
        XCTAssertTrue(s.repeatsGene("A+A")); XCTAssertTrue(s.repeatsGene("A+B+A")); XCTAssertFalse(s.repeatsGene("A+B"))
        XCTAssertFalse(s.repeatsGene("ctrl+A"))
        assertPVError(exit: 64, "--conditions: label 'T01+' has an empty gene name") {
            _ = try s.strictCanonical("T01+") { PVError.usage("--conditions: \($0)") }
        }
    }

    /// pv-split: `+` was turned into a control, `T01+` into T01, NUL passed into split.tsv.
    func testSplitRejectsMalformedLabelsWithFileAndLine() throws {
        for (label, what) in [("+", "empty gene name"), ("T01+", "empty gene name"), ("+T02", "empty gene name"),
                              ("T01++T02", "empty gene name"), ("T0\u{0}1", "control character")] {
            var rows = "ctrl\nctrl\nT01\nT02\nT01+T02\n".split(separator: "\n").enumerated().map { "C\($0.offset)\t\($0.element)" }
            rows.append("BAD\t\(label)")
            let p = FormatTest.write(rows.joined(separator: "\n") + "\n", "cells.tsv", in: dir)
            let r = try TestSupport.run("pv-split", ["--out", dir.path + "/split.tsv", p])
            XCTAssertEqual(r.status, 65, "\(label): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("pv-split: \(p):6: ") && r.stderr.contains(what), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/split.tsv"))
        }
    }

    func testSplitWarnsOnARepeatedGeneAndRefusesAnEmptySeparator() throws {
        let p = FormatTest.write("a\tctrl\nb\tctrl\nc\tA\nd\tB\ne\tA+A\nf\tA+B\n", "cells.tsv", in: dir)
        let r = try TestSupport.run("pv-split", ["--scheme", "random-cells", "--out", dir.path + "/split.tsv", p])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning") && r.stderr.contains("'A+A'") && r.stderr.contains("names a gene twice"), r.stderr)
        let e = try TestSupport.run("pv-split", ["--sep", "", "--out", dir.path + "/s2.tsv", p])
        XCTAssertEqual(e.status, 64, e.stderr)
        XCTAssertTrue(e.stderr.hasPrefix("pv-split: --sep must not be empty"), e.stderr)
    }

    func testCustomTableAndPredTsvRejectEmptyGeneNames() throws {
        let custom = FormatTest.write("condition\tset\nT01+\ttest\n", "custom.tsv", in: dir)
        assertPVError(exit: 65, "custom.tsv:2: label 'T01+' has an empty gene name") {
            _ = try readCustomSplit(custom, syntax: LabelSyntax(), known: ["T01"])
        }
    }

    func testSplitTableRejectsControlCharacters() throws {
        let p = FormatTest.write("barcode\tlabel\tcondition\tset\tgroup\nA\u{0}\tT01\tT01\ttrain\tsingle\n", "split.tsv", in: dir)
        assertPVError(exit: 65, "split.tsv:2:", "control character") { _ = try SplitTable(path: p) }
    }

    /// pv-normalize --labels: a `+` label became a control.
    func testNormalizeRejectsMalformedLabels() throws {
        let sim = dir.appendingPathComponent("sim").path
        let s = try TestSupport.run("pv-simulate", ["--genes", "30", "--targets", "2", "--doubles", "1", "--cells-per-condition", "10", "--quiet", "--out", sim])
        XCTAssertEqual(s.status, 0, s.stderr)
        var lines = try String(contentsOfFile: sim + "/cells.tsv", encoding: .utf8).split(separator: "\n").map(String.init)
        let i = lines.firstIndex { !$0.hasPrefix("#") }! + 3
        let bc = lines[i].split(separator: "\t")[0]
        lines[i] = "\(bc)\t+"
        let labels = FormatTest.write(lines.joined(separator: "\n") + "\n", "labels.tsv", in: dir)
        let r = try TestSupport.run("pv-normalize", ["--labels", labels, "--out", dir.path + "/n", sim])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("labels.tsv:\(i + 1): label '+' has an empty gene name"), r.stderr)
    }

    // MARK: error lines

    func testSanitizedMessageEscapesAndCuts() {
        XCTAssertEqual(sanitizedMessage("a\nb\rc\td\u{0}e\u{1b}[31m\u{7f}"), "a\\nb\\rc\\td\\0e\\x1B[31m\\x7F")
        XCTAssertEqual(sanitizedMessage("bad \u{FFFD} byte, \u{202E}rtl, \u{2028}"), "bad \\u{FFFD} byte, \\u{202E}rtl, \\u{2028}")
        let long = String(repeating: "x", count: 200)
        XCTAssertEqual(sanitizedMessage("field '\(long)' is bad"), "field '\(String(repeating: "x", count: 57))...' is bad")
        XCTAssertEqual(sanitizedMessage("the model's genes and the file's rows: 'A'"), "the model's genes and the file's rows: 'A'",
                       "apostrophes are not quotes")
        XCTAssertEqual(sanitizedMessage("café ✓ 'short'"), "café ✓ 'short'", "printable Unicode is kept")
    }

    /// A CR-only file is one long line; a NUL and escape sequence in a field: the error is still one short line.
    func testToolErrorIsOneEscapedLine() throws {
        let junk = (0..<300).map { "c\($0)\tT\($0 % 5)\u{1b}[2J" }.joined(separator: "\r")
        let p = FormatTest.write("barcode\tlabel\tx\n" + junk + "\n", "cr.tsv", in: dir)
        let r = try TestSupport.run("pv-split", ["--out", dir.path + "/s.tsv", p])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n", omittingEmptySubsequences: false).count, 2, "one line and its newline: \(r.stderr)")
        XCTAssertFalse(r.stderr.dropLast().contains { $0.asciiValue.map { $0 < 32 || $0 == 127 } ?? false }, r.stderr)
        XCTAssertLessThan(r.stderr.count, 400, r.stderr)
    }

    /// A zip member name with a newline: one line, and the offset lies inside the file.
    func testNPZCorruptMemberNameIsEscaped() throws {
        var z = NPZ(); z.add("W", [1, 2, 3], shape: [3])
        let p = dir.appendingPathComponent("m.npz").path
        try z.write(p)
        var b = FormatTest.read(p)
        // Rename the member in the central directory to "W\n.npy", then break its CRC.
        let eocd = b.count - 22
        let cd = Int(b[eocd + 16]) | Int(b[eocd + 17]) << 8 | Int(b[eocd + 18]) << 16 | Int(b[eocd + 19]) << 24
        b[cd + 46 + 1] = 0x0a
        b[cd + 16] ^= 0xff
        let q = FormatTest.write(b, "bad.npz", in: dir)
        let r = try TestSupport.run("pv-predict", ["--list-targets", q])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("member 'W\\nnpy'"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        if let range = r.stderr.range(of: "byte "), let off = Int(r.stderr[range.upperBound...].prefix { $0.isNumber }) {
            XCTAssertLessThan(off, b.count, "offset inside the file")
        }
    }

    /// Baseline-model errors named `model` instead of the file.
    func testBaselineErrorNamesTheModelFile() throws {
        var m = ModelFile(kind: "linear", genes: ["g1", "g2"], targets: ["A"], meta: [:])
        m.set("gene_embedding", [1, 2], shape: [2, 1])
        let p = dir.appendingPathComponent("lin.npz").path
        try m.write(p)
        let back = try ModelFile(path: p)
        XCTAssertEqual(back.source, p)
        assertPVError(exit: 65, "\(p): ") { _ = try back.tensor("coef") }
        assertPVError(exit: 65, "\(p): linear model has no tensor 'coef'") { _ = try Baselines.delta(model: back, condition: "A") }
    }
}
