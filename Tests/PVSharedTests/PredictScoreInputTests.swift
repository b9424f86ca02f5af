import Foundation
import XCTest
import PVShared

/// Issue 10, items 4 and 5: pv-predict checks every value it reads for NaN/inf (it gave exit 0 and an all-NaN
/// pred.npy), and pv-score refuses a pred.npy/means.npy whose row count differs from its TSV's (extra rows were
/// ignored silently).
final class PredictScoreInputTests: XCTestCase {
    /// One small pipeline for every test: simulated counts, normalised, split, additive and mean baselines, and
    /// one prediction.
    nonisolated(unsafe) static var base: URL!
    var d: String { Self.base.path }

    override class func setUp() {
        base = TestSupport.tempDir("predin")
        SmallPipeline.build(in: base.path)
    }
    override class func tearDown() { try? FileManager.default.removeItem(at: base) }

    func oneLine(_ r: ToolResult, _ tool: String, exit: Int32, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, exit, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix(tool + ": "), r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, file: file, line: line)
        for p in parts { XCTAssertTrue(r.stderr.contains(p), "'\(r.stderr)' lacks '\(p)'", file: file, line: line) }
    }

    /// A copy of the normalised folder whose expr.npy has `value` at (row, column), header (and run id) kept.
    private func exprWith(_ value: Float, row: Int, column: Int, in name: String) throws -> String {
        let fm = FileManager.default
        let dst = d + "/" + name
        try? fm.removeItem(atPath: dst)
        try fm.copyItem(atPath: d + "/norm", toPath: dst)
        let a = try NPYArray(path: dst + "/expr.npy")
        let (rows, cols, _) = try a.matrix()
        var bytes = FormatTest.read(dst + "/expr.npy")
        let off = bytes.count - rows * cols * 4 + (row * cols + column) * 4
        withUnsafeBytes(of: value.bitPattern.littleEndian) { for i in 0..<4 { bytes[off + i] = $0[i] } }
        _ = FormatTest.write(bytes, "expr.npy", in: URL(fileURLWithPath: dst))
        return dst + "/expr.npy"
    }

    func testPredictRefusesNonFiniteControlCells() throws {
        let split = try SplitTable(path: d + "/split.tsv")
        let ctrl = split.rows(set: "train", condition: Condition.control)[3]
        for v in [Float.nan, .infinity] {
            let expr = try exprWith(v, row: ctrl, column: 5, in: "nan-expr")
            let out = d + "/nan-pred"
            let r = try TestSupport.run("pv-predict", ["--quiet", "--out", out, d + "/add.npz", expr, d + "/split.tsv"])
            oneLine(r, "pv-predict", exit: 65, [expr, "row \(ctrl) (\(split.barcodes[ctrl])), column 5", "must be finite"])
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/pred.npy"))
        }
        // A NaN in a perturbed cell that no prediction reads is no reason to fail.
        let pert = split.rows(set: "test").first { split.conditions[$0] != Condition.control }!
        let expr = try exprWith(.nan, row: pert, column: 0, in: "nan-pert")
        let r = try TestSupport.run("pv-predict", ["--quiet", "--out", d + "/pert-pred", d + "/add.npz", expr, d + "/split.tsv"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// pred.npy or means.npy as a named pipe: refused before anything is written (their headers are rewritten once
    /// the data are hashed); it used to fail only at the end with 'cannot rewrite a stream'. Exit 74, the path
    /// named, nothing written into the pipe, no other output or temporary.
    func testPredictionsToAPipeAreRefusedUpFront() throws {
        for name in ["pred.npy", "means.npy"] {
            let out = TestSupport.tempDir("pipe-pred")
            defer { try? FileManager.default.removeItem(at: out) }
            let fifo = out.appendingPathComponent(name).path
            XCTAssertEqual(mkfifo(fifo, 0o600), 0)
            let fd = open(fifo, O_RDONLY | O_NONBLOCK)
            XCTAssertGreaterThanOrEqual(fd, 0)
            defer { close(fd) }
            let r = try TestSupport.run("pv-predict", ["--quiet", "--out", out.path, d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"])
            oneLine(r, "pv-predict", exit: 74, [fifo, "is not a regular file", "\(name) cannot go to a pipe or device"])
            XCTAssertEqual(TestSupport.files(in: out), [name], "no other output, no temporary")
            var byte: UInt8 = 0
            XCTAssertLessThanOrEqual(read(fd, &byte, 1), 0, "nothing was written into the pipe")
        }
    }

    /// A baseline model whose tensors hold NaN: the predictions were all NaN, exit 0.
    func testPredictRefusesANonFiniteBaselineModel() throws {
        for (model, tensor) in [("add", "deltas"), ("mean", "mean_delta"), ("mean", "control_mean")] {
            var m = try ModelFile(path: d + "/\(model).npz")
            var v = try m.tensor(tensor)
            let shape = m.shape(tensor)!
            v[v.count - 1] = .nan
            m.set(tensor, v, shape: shape)
            let path = d + "/bad-\(model)-\(tensor).npz"
            try m.write(path)
            let r = try TestSupport.run("pv-predict", ["--quiet", "--out", d + "/bad-pred", path, d + "/norm/expr.npy", d + "/split.tsv"])
            let pos = shape.count == 2 ? "[\(shape[0] - 1), \(shape[1] - 1)]" : "[\(shape[0] - 1)]"
            oneLine(r, "pv-predict", exit: 65, [path, "tensor '\(tensor)'", "nan at \(pos)"])
            XCTAssertFalse(FileManager.default.fileExists(atPath: d + "/bad-pred/pred.npy"))
        }
    }

    /// pred.tsv listing fewer cells than pred.npy has rows: 396 rows were scored as 395, silently.
    func testScoreRefusesRowCountsThatDiffer() throws {
        let fm = FileManager.default
        let p = d + "/short"
        try? fm.removeItem(atPath: p)
        try fm.copyItem(atPath: d + "/pred", toPath: p)
        var lines = String(decoding: FormatTest.read(p + "/pred.tsv"), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let listed = lines.filter { !$0.hasPrefix("#") && !$0.isEmpty }.count - 1
        lines.remove(at: lines.lastIndex { !$0.isEmpty }!)
        _ = FormatTest.write(lines.joined(separator: "\n"), "pred.tsv", in: URL(fileURLWithPath: p))
        let score = ["--quiet", "--out", d + "/s.tsv", d + "/norm/expr.npy", d + "/split.tsv"]
        let r = try TestSupport.run("pv-score", ["--pred", "a=\(p)/pred.npy"] + score)
        oneLine(r, "pv-score", exit: 65, [p + "/pred.tsv", "lists \(listed - 1) cells", p + "/pred.npy", "has \(listed) rows"])
        XCTAssertFalse(fm.fileExists(atPath: d + "/s.tsv"))

        // means.npy with a row means.tsv does not list.
        let q = d + "/extra-mean"
        try? fm.removeItem(atPath: q)
        try fm.copyItem(atPath: d + "/pred", toPath: q)
        let a = try NPYArray(path: q + "/means.npy")
        let (rows, cols, _) = try a.matrix()
        let v = try FormatTest.values(a)
        try writeNPY(q + "/means.npy", v + v.suffix(cols), shape: [rows + 1, cols])
        let r2 = try TestSupport.run("pv-score", ["--pred", "a=\(q)/pred.npy"] + score)
        oneLine(r2, "pv-score", exit: 65, [q + "/means.tsv", "lists \(rows) conditions", q + "/means.npy", "has \(rows + 1) rows"])

        let ok = try TestSupport.run("pv-score", ["--pred", "a=\(d)/pred/pred.npy"] + score)
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }
}

/// Simulated counts (pv-simulate) → expr.npy (pv-normalize) → split.tsv → additive and mean baselines → one
/// prediction, in `d`: the inputs of tests that feed the tools bad values.
enum SmallPipeline {
    static func build(in d: String) {
        func run(_ t: String, _ a: [String]) {
            let r = try! TestSupport.run(t, a)
            precondition(r.status == 0, "\(t): \(r.stderr)")
        }
        run("pv-simulate", ["--genes", "30", "--targets", "3", "--doubles", "1", "--cells-per-condition", "20", "--quiet", "--seed", "2", "--out", d + "/sim"])
        run("pv-normalize", ["--labels", d + "/sim/cells.tsv", "--quiet", "--out", d + "/norm", d + "/sim"])
        run("pv-split", ["--seed", "1", "--out", d + "/split.tsv", d + "/norm/obs.tsv"])
        run("pv-train", ["--model", "additive", "--quiet", "--out", d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"])
        run("pv-train", ["--model", "mean", "--quiet", "--out", d + "/mean.npz", d + "/norm/expr.npy", d + "/split.tsv"])
        run("pv-predict", ["--quiet", "--out", d + "/pred", d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"])
    }
}
