import Foundation
import XCTest
import PVShared

/// pv-export from the shell side on a small simulated screen: the expression store and the cell-eval pair are written
/// whole or not at all, anndata reads back exactly pv's files (Tests/interop/anndata_roundtrip.py), and cell-eval
/// scores the pair as pv-score does (Tests/interop/celleval_compare.py). The Python checks use $PV_INTEROP_PYTHON,
/// `make interop-deps`'s .venv-interop, or python3, and skip with one message when none has anndata (or cell-eval).
final class ExportTests: XCTestCase {
    /// A screen normalised and split once for the class: DIR/norm (expr.npy, obs.tsv, genes.tsv) and DIR/split.tsv.
    nonisolated(unsafe) static var screen: URL?

    override class func tearDown() {
        if let d = screen { try? FileManager.default.removeItem(at: d) }
        screen = nil
    }

    private func ok(_ tool: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> ToolResult {
        let r = try TestSupport.run(tool, args)
        XCTAssertEqual(r.status, 0, "\(tool) \(args.joined(separator: " ")): \(r.stderr)", file: file, line: line)
        if r.status != 0 { throw XCTSkip("stopping: \(tool) failed") }
        return r
    }

    private func smallScreen() throws -> URL {
        if let d = ExportTests.screen { return d }
        let d = TestSupport.tempDir("export")
        _ = try ok("pv-simulate", ["--quiet", "--cells-per-condition", "40", "--genes", "120", "--targets", "6", "--doubles", "3",
                                   "--seed", "5", "--out", d.path + "/screen"])
        _ = try ok("pv-normalize", ["--quiet", "--n-top-genes", "80", "--labels", d.path + "/screen/cells.tsv", "--out", d.path + "/norm", d.path + "/screen"])
        _ = try ok("pv-split", ["--quiet", "--holdout-singles", "2", "--holdout-cells", "20", "--seed", "1",
                                "--out", d.path + "/split.tsv", d.path + "/norm/obs.tsv"])
        ExportTests.screen = d
        return d
    }

    private func anndataPython() throws -> String {
        guard let py = TestSupport.interopPython(["anndata", "zarr"]) else {
            throw XCTSkip("no python with anndata (make interop-deps installs one in .venv-interop); AnnData round trip not checked")
        }
        return py
    }

    /// Entries of `dir` other than the ones listed: what a run left behind.
    private func leftovers(_ dir: URL, except keep: Set<String>) -> [String] {
        TestSupport.files(in: dir).filter { !keep.contains($0) }
    }

    func testExpressionStoreIsWrittenWholeAndReplacedWhole() throws {
        let d = try smallScreen()
        let out = TestSupport.tempDir("export-out")
        defer { try? FileManager.default.removeItem(at: out) }
        let store = out.path + "/expr.zarr"
        _ = try ok("pv-export", ["--quiet", "--out", store, d.path + "/norm"])
        XCTAssertEqual(TestSupport.files(in: out), ["expr.zarr"], "no temporary folder left beside the store")
        XCTAssertEqual(TestSupport.files(in: URL(fileURLWithPath: store)), [".zattrs", ".zgroup", "X", "obs", "var"])
        let obsAttrs = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: store + "/obs/.zattrs"))) as? [String: Any]
        XCTAssertEqual(obsAttrs?["column-order"] as? [String], ["label", "n_counts", "n_genes", "size_factor"])
        // Again, with the split: the earlier store is replaced whole.
        _ = try ok("pv-export", ["--quiet", "--split", d.path + "/split.tsv", "--out", store, d.path + "/norm"])
        XCTAssertEqual(TestSupport.files(in: out), ["expr.zarr"])
        let again = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: store + "/obs/.zattrs"))) as? [String: Any]
        XCTAssertEqual(again?["column-order"] as? [String], ["label", "n_counts", "n_genes", "size_factor", "condition", "set", "group"])
    }

    func testBadInputLeavesNothing() throws {
        let d = try smallScreen()
        let out = TestSupport.tempDir("export-bad")
        defer { try? FileManager.default.removeItem(at: out) }
        // obs.tsv with a row missing.
        let bad = out.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: false)
        for f in ["expr.npy", "genes.tsv"] { try FileManager.default.copyItem(atPath: d.path + "/norm/" + f, toPath: bad.path + "/" + f) }
        let obs = try String(contentsOfFile: d.path + "/norm/obs.tsv", encoding: .utf8).split(separator: "\n").dropLast().joined(separator: "\n") + "\n"
        try obs.write(toFile: bad.path + "/obs.tsv", atomically: true, encoding: .utf8)
        // split.tsv with its first two cells swapped.
        var split = try TSVTable(path: d.path + "/split.tsv")
        split.rows.swapAt(0, 1)
        try split.write(out.path + "/swapped.tsv")
        let keep: Set<String> = ["bad", "results", "swapped.tsv"]
        let cases: [([String], Int32, String)] = [
            (["--out", out.path + "/a.zarr", bad.path], 65, "obs.tsv: has"),
            (["--out", out.path + "/a.zarr", out.path], 66, "expr.npy: not found"),
            (["--split", d.path + "/split.tsv", "--out", out.path + "/a.zarr", bad.path], 65, "obs.tsv: has"),
            (["--split", out.path + "/swapped.tsv", "--out", out.path + "/a.zarr", d.path + "/norm"], 65, "the split is not of this folder"),
            (["--out", "-", d.path + "/norm"], 64, "--out must be a path"),
            (["--out", out.path + "/results", d.path + "/norm"], 74, "exists and is not a zarr store"),
            (["--out", out.path + "/a.zarr", "--pred", "x=y", d.path + "/norm"], 64, "--pred needs --cell-eval"),
            (["--cell-eval", "--out", out.path + "/pair", d.path + "/norm/expr.npy"], 64, "--cell-eval expects expr.npy split.tsv"),
            (["--cell-eval", "--out", out.path + "/pair", "--pred", "real=\(d.path)", d.path + "/norm/expr.npy", d.path + "/split.tsv"], 64, "'real'"),
            (["--compress", "12", "--out", out.path + "/a.zarr", d.path + "/norm"], 64, "--compress must be 0 to 9"),
        ]
        try FileManager.default.createDirectory(at: out.appendingPathComponent("results"), withIntermediateDirectories: false)
        _ = FormatTest.write("mine", "results/notes.txt", in: out)
        for (args, status, message) in cases {
            let r = try TestSupport.run("pv-export", args)
            XCTAssertEqual(r.status, status, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("pv-export: ") && r.stderr.contains(message), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
            XCTAssertEqual(leftovers(out, except: keep), [], "\(args) left files behind")
        }
        XCTAssertEqual(TestSupport.files(in: out.appendingPathComponent("results")), ["notes.txt"], "an unrelated folder is never replaced")
    }

    func testExpressionStoreRoundTripsThroughAnnData() throws {
        let py = try anndataPython()
        let d = try smallScreen()
        let out = TestSupport.tempDir("export-rt")
        defer { try? FileManager.default.removeItem(at: out) }
        for (name, extra) in [("zlib", ["--chunk-rows", "7"]), ("raw", ["--compress", "0"])] {
            let store = out.path + "/\(name).zarr"
            _ = try ok("pv-export", ["--quiet", "--split", d.path + "/split.tsv", "--out", store] + extra + [d.path + "/norm"])
            let (st, msg) = try TestSupport.pythonScript(py, "Tests/interop/anndata_roundtrip.py", [store, d.path + "/norm", d.path + "/split.tsv"])
            XCTAssertEqual(st, 0, "\(name): \(msg)")
            print("anndata round trip (\(name)): \(msg.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        if let norman = TestSupport.normanDir {
            let n = out.appendingPathComponent("norman")
            _ = try ok("pv-normalize", ["--quiet", "--labels", norman + "/cells.tsv", "--out", n.path, norman])
            _ = try ok("pv-export", ["--quiet", "--out", n.path + ".zarr", n.path])
            let (st, msg) = try TestSupport.pythonScript(py, "Tests/interop/anndata_roundtrip.py", [n.path + ".zarr", n.path])
            XCTAssertEqual(st, 0, "Norman subset: \(msg)")
            print("anndata round trip (Norman subset): \(msg.trimmingCharacters(in: .whitespacesAndNewlines))")
        } else {
            print("ExportTests: shared/data/norman2019-subset not found; the real-data round trip is skipped")
        }
    }

    /// The cell-eval pair: control and additive baselines predicted, exported, and scored by cell-eval and pv-score.
    /// pv-score is given a copy of each prediction without means.npy (clamped as pv-export writes it; pv-predict's cells
    /// are already >= 0), so that both score the mean of the same cells.
    func testCellEvalPairScoresAsPVScore() throws {
        let d = try smallScreen()
        let w = TestSupport.tempDir("export-ce")
        defer { try? FileManager.default.removeItem(at: w) }
        var preds: [String] = []
        for model in ["control", "additive"] {
            _ = try ok("pv-train", ["--quiet", "--model", model, "--out", w.path + "/\(model).npz", d.path + "/norm/expr.npy", d.path + "/split.tsv"])
            _ = try ok("pv-predict", ["--quiet", "--seed", "1", "--out", w.path + "/pred-\(model)", w.path + "/\(model).npz", d.path + "/norm/expr.npy", d.path + "/split.tsv"])
            // The clamped copy: what pv-export writes, for pv-score to score.
            let p = w.path + "/clamped-\(model)"
            try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: false)
            let arr = try NPYArray(path: w.path + "/pred-\(model)/pred.npy")
            let (r, c, v) = try arr.matrix()
            try writeNPY(p + "/pred.npy", v.map { max($0, 0) }, shape: [r, c])
            try FileManager.default.copyItem(atPath: w.path + "/pred-\(model)/pred.tsv", toPath: p + "/pred.tsv")
            preds.append("\(model)=\(w.path)/pred-\(model)")
        }
        let pair = w.path + "/pair"
        let r = try ok("pv-export", ["--cell-eval", "--out", pair] + preds.flatMap { ["--pred", $0] } + [d.path + "/norm/expr.npy", d.path + "/split.tsv"])
        XCTAssertEqual(TestSupport.files(in: URL(fileURLWithPath: pair)), ["additive.zarr", "control.zarr", "real.zarr"])
        XCTAssertFalse(r.stderr.contains("control/pred.npy"), "the control baseline has no negative values to clamp: \(r.stderr)")

        // Predictions of different conditions cannot form a pair: nothing is written.
        let t = try TSVTable(path: w.path + "/pred-control/pred.tsv")
        let partial = w.path + "/partial"
        let firstCondition = t.rows[0][try t.column("condition")]
        try TestSupport.writePredictionSubset(from: w.path + "/pred-control", to: partial) { $0 != firstCondition }
        let bad = try TestSupport.run("pv-export", ["--cell-eval", "--out", w.path + "/pair2", "--pred", preds[0], "--pred", "partial=\(partial)",
                                                    d.path + "/norm/expr.npy", d.path + "/split.tsv"])
        XCTAssertEqual(bad.status, 65, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("partial/pred.tsv: does not predict \(firstCondition), which control predicts"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: w.path + "/pair2"), "a failed export leaves no folder")

        guard let py = TestSupport.interopPython(["anndata", "cell_eval"]) else {
            throw XCTSkip("no python with cell-eval (make interop-deps installs one in .venv-interop); cell-eval agreement not checked")
        }
        let clampedPair = w.path + "/clamped-pair"
        _ = try ok("pv-export", ["--quiet", "--cell-eval", "--out", clampedPair, "--pred", "control=\(w.path)/clamped-control",
                                 "--pred", "additive=\(w.path)/clamped-additive", d.path + "/norm/expr.npy", d.path + "/split.tsv"])
        _ = try ok("pv-score", ["--quiet", "--out", w.path + "/scores.tsv", "--pred", "control=\(w.path)/clamped-control/pred.npy",
                                "--pred", "additive=\(w.path)/clamped-additive/pred.npy", d.path + "/norm/expr.npy", d.path + "/split.tsv"])
        for name in ["control", "additive"] {
            let (st, msg) = try TestSupport.pythonScript(py, "Tests/interop/celleval_compare.py",
                                                         [clampedPair, name, w.path + "/scores.tsv", "non-targeting", w.path + "/ce-\(name)"])
            XCTAssertEqual(st, 0, "\(name): \(msg)")
            print("cell-eval vs pv-score (\(name)):\n\(msg.split(separator: "\n").filter { $0.hasPrefix("ok") || $0.contains("largest difference") }.joined(separator: "\n"))")
        }
    }
}
