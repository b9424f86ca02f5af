import Foundation
import XCTest
import PVShared

/// The whole chain through the real tools, as `make run` drives it: normalize -> split -> train (PerturbedVAE and
/// the additive baseline) -> predict -> score. Runs on a small simulated screen always, and on the shared Norman
/// subset when it is present.
final class PipelineTests: XCTestCase {
    /// Runs a tool and fails the test with its stderr when it does not exit 0.
    @discardableResult
    private func ok(_ tool: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> ToolResult {
        let r = try TestSupport.run(tool, args)
        XCTAssertEqual(r.status, 0, "\(tool) \(args.joined(separator: " ")): \(r.stderr)", file: file, line: line)
        if r.status != 0 { throw XCTSkip("stopping the chain: \(tool) failed") }
        return r
    }

    /// Runs every stage on a 10x folder and checks the shape of each stage's output against the one before.
    private func runChain(tenx: String, labels: String, nTop: Int, dir: URL) throws {
        let d = dir.path
        try ok("pv-normalize", ["--n-top-genes", "\(nTop)", "--labels", labels, "--out", d, tenx])
        let expr = try NPYArray(path: d + "/expr.npy")
        let (cells, genes, values) = try expr.matrix()
        let obs = try TSVTable(path: d + "/obs.tsv")
        let geneTable = try TSVTable(path: d + "/genes.tsv")
        XCTAssertEqual(obs.rows.count, cells, "one obs row per expr row")
        XCTAssertEqual(geneTable.rows.count, genes, "one genes row per expr column")
        XCTAssertGreaterThanOrEqual(genes, nTop, "at least the highly variable genes are kept")
        XCTAssertTrue(values.allSatisfy { $0.isFinite && $0 >= 0 }, "log1p of normalised counts is finite and >= 0")

        try ok("pv-split", ["--seed", "1", "--out", d + "/split.tsv", d + "/obs.tsv"])
        let split = try SplitTable(path: d + "/split.tsv")
        XCTAssertEqual(split.barcodes, try obs.values("barcode"), "split rows follow obs rows")
        let testConditions = Set(split.rows(set: "test").map { split.conditions[$0] })
        XCTAssertFalse(testConditions.isEmpty)
        XCTAssertTrue(split.groups.contains("double"), "singles-to-doubles holds out combinations")

        try ok("pv-train", ["--steps", "300", "--lr", "1e-3", "--hidden", "32", "--latent-inv", "8", "--latent-resp", "4",
                            "--seed", "1", "--quiet", "--out", d + "/model.npz", d + "/expr.npy", d + "/split.tsv"])
        try ok("pv-train", ["--model", "additive", "--out", d + "/additive.npz", d + "/expr.npy", d + "/split.tsv"])
        try ok("pv-train", ["--model", "control", "--out", d + "/control.npz", d + "/expr.npy", d + "/split.tsv"])
        let model = try ModelFile(path: d + "/model.npz")
        XCTAssertEqual(model.kind, "pvae")
        XCTAssertEqual(model.genes.count, genes)

        var preds: [String] = []
        for (name, file) in [("pvae", "model.npz"), ("additive", "additive.npz"), ("control", "control.npz")] {
            let out = d + "/pred-" + name
            try ok("pv-predict", ["--seed", "1", "--out", out, d + "/" + file, d + "/expr.npy", d + "/split.tsv"])
            let pred = try NPYArray(path: out + "/pred.npy")
            let (pr, pc, pv) = try pred.matrix()
            let ptsv = try TSVTable(path: out + "/pred.tsv")
            XCTAssertEqual(pc, genes, "\(name): predictions have the expression's genes")
            XCTAssertEqual(ptsv.rows.count, pr, "\(name): one pred.tsv row per predicted cell")
            XCTAssertTrue(pv.allSatisfy { $0.isFinite }, "\(name): finite predictions")
            XCTAssertTrue(pv.allSatisfy { $0 >= 0 }, "\(name): no negative log-expression in pred.npy")
            let (mr, mc, mv) = try NPYArray(path: out + "/means.npy").matrix()
            XCTAssertEqual(mc, genes); XCTAssertEqual(mr, try TSVTable(path: out + "/means.tsv").rows.count)
            XCTAssertTrue(mv.allSatisfy { $0.isFinite && $0 >= 0 }, "\(name): means are finite and >= 0")
            XCTAssertEqual(Set(try ptsv.values("condition")), testConditions, "\(name): every test condition predicted")
            preds += ["--pred", "\(name)=\(out)/pred.npy"]
        }

        let r = try ok("pv-score", preds + ["--out", d + "/scores.tsv", "--json", d + "/scores.json",
                                            d + "/expr.npy", d + "/split.tsv"])
        XCTAssertTrue(r.stdout.contains("pearson_delta"), "summary table on stdout")
        let scores = try TSVTable(path: d + "/scores.tsv")
        let prediction = try scores.values("prediction"), condition = try scores.values("condition")
        for p in ["pvae", "additive"] {
            let scored = Set(zip(prediction, condition).filter { $0.0 == p }.map { $0.1 })
            XCTAssertEqual(scored, testConditions, "\(p): a score row for every test condition")
        }
        let pd = try scores.column("pearson_delta")
        XCTAssertTrue(scores.rows.allSatisfy { Double($0[pd]) != nil }, "pearson_delta is numeric in every row")
        let pc = try scores.column("prediction")
        for row in scores.rows where row[pc] == "control" {
            XCTAssertEqual(Double(row[pd]), 0, "the control baseline predicts no change: pearson_delta 0")
        }
        for col in ["mae", "pds", "interaction_r2", "pearson_interaction", "replicate"] { XCTAssertNoThrow(try scores.column(col)) }
        // The additive baseline's means and scores against the exact additive mean, computed independently in numpy.
        if let py = TestSupport.interopPython(["numpy"]) {
            let (st, msg) = try TestSupport.pythonScript(py, "Tests/reference/check_exact_means.py",
                                                         [d + "/expr.npy", d + "/split.tsv", d + "/pred-additive", d + "/scores.tsv", "additive"])
            XCTAssertEqual(st, 0, msg)
        } else {
            print("PipelineTests: no python with numpy; the exact additive mean is not cross-checked")
        }
        XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/scores.json"))))
    }

    func testChainOnSimulatedScreen() throws {
        let dir = TestSupport.tempDir("pipeline-sim")
        defer { try? FileManager.default.removeItem(at: dir) }
        let screen = dir.appendingPathComponent("screen").path
        try ok("pv-simulate", ["--cells-per-condition", "60", "--genes", "200", "--targets", "8", "--doubles", "5",
                               "--seed", "3", "--quiet", "--out", screen])
        let out = dir.appendingPathComponent("out")
        try runChain(tenx: screen, labels: screen + "/cells.tsv", nTop: 150, dir: out)
    }

    func testChainOnNormanSubset() throws {
        guard let norman = TestSupport.normanDir else {
            throw XCTSkip("shared Norman subset not found at ../shared/data/norman2019-subset: real-data pipeline test skipped")
        }
        let dir = TestSupport.tempDir("pipeline-norman")
        defer { try? FileManager.default.removeItem(at: dir) }
        try runChain(tenx: norman, labels: norman + "/cells.tsv", nTop: 200, dir: dir)
    }
}
