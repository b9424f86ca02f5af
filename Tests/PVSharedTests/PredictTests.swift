import Foundation
import XCTest
import PVShared

/// pv-predict's library (Sources/PVShared/Predict), in process: exact baseline means, non-negative cells, and the
/// control cells of a condition fixed by (seed, condition name).
final class PredictTests: XCTestCase {
    let dir = TestSupport.fixture("score")

    func testBaselineMeanIsExactAndCellsAreClampedShiftsOfTheirControls() throws {
        let (rows, cols, x) = try NPYArray(path: dir + "/expr.npy").matrix()
        var sp = try SplitTable(path: dir + "/split.tsv")
        for i in 0..<sp.count where sp.sets[i] == "val" { sp.sets[i] = "train" }
        let model = try Baselines.train(kind: .additive, expr: x, rows: rows, cols: cols, split: sp, genes: (0..<cols).map { "G\($0)" })
        let p = BaselinePredictor(model: model, file: "additive")
        let controls = sp.rows(set: "train", condition: "ctrl")
        // Independently: c_train + (mean A − c_train) + (mean B − c_train), clamped at 0.
        func mean(_ r: [Int]) -> [Double] { (0..<cols).map { g in r.map { Double(x[$0 * cols + g]) }.reduce(0, +) / Double(r.count) } }
        let c = mean(controls), a = mean(sp.rows(set: "train", condition: "A")), b = mean(sp.rows(set: "train", condition: "B"))
        var rng = RNG(seed: 1)
        let m = try p.mean(condition: "A+B", controls: controls, expr: x.baseAddress!, controlMean: c, rng: &rng)
        for g in 0..<cols { XCTAssertEqual(m[g], max(0, a[g] + b[g] - c[g]), accuracy: 1e-5 * max(1, abs(m[g]))) }
        XCTAssertTrue(m.contains { $0 == 0 } || a.indices.allSatisfy { a[$0] + b[$0] - c[$0] >= 0 }, "the clamp applies where the sum is negative")
        let src = Array(controls.prefix(7))
        var cells = [Float](repeating: -1, count: src.count * cols)
        try cells.withUnsafeMutableBufferPointer { try p.cells(condition: "A+B", sources: src, expr: x.baseAddress!, rng: &rng, out: $0.baseAddress!) }
        let d = try Baselines.delta(model: model, condition: "A+B")
        for (k, s) in src.enumerated() {
            for g in 0..<cols { XCTAssertEqual(cells[k * cols + g], max(0, x[s * cols + g] + d[g])) }
        }
        XCTAssertTrue(cells.allSatisfy { $0 >= 0 })
    }

    func testControlCellsDependOnlyOnSeedAndConditionName() throws {
        let sp = try SplitTable(path: dir + "/split.tsv")
        let one = try PredictionPlan(split: sp, known: ["A", "B"], list: "A+B,A", fixedCells: 12, modelName: "m", hint: "")
        let two = try PredictionPlan(split: sp, known: ["A", "B"], list: "B,A,A+B", fixedCells: 12, modelName: "m", hint: "")
        XCTAssertEqual(one.sources(1, seed: 5).rows, two.sources(1, seed: 5).rows, "A in either list and position")
        XCTAssertEqual(one.sources(0, seed: 5).rows, two.sources(2, seed: 5).rows, "A+B in either list and position")
        XCTAssertNotEqual(one.sources(0, seed: 5).rows, one.sources(0, seed: 6).rows, "another seed draws other cells")
        XCTAssertEqual(Set(one.sources(0, seed: 5).rows).count, 12, "without replacement when there are enough controls")
        XCTAssertTrue(one.sources(0, seed: 5).rows.allSatisfy { sp.conditions[$0] == "ctrl" && sp.sets[$0] == "train" })
        // FNV-1a 64 of "a" (the published test vector).
        XCTAssertEqual(PredictionPlan.stream(of: "a"), 0xaf63_dc4c_8601_ec8c)
    }
}

extension PredictTests {
    /// The summary line names what made the predictions: the baseline's kind (its cells do not depend on
    /// --predict), or the --predict mode for PerturbedVAE.
    func testSummaryNamesTheBaselineOrTheMode() throws {
        let dir = TestSupport.tempDir("predsum")
        try TinyScreen(genes: 30, targets: 4, cells: 30, controls: 60, seed: 2).write(to: dir)
        let x = dir.appendingPathComponent("expr.npy").path, sp = dir.appendingPathComponent("split.tsv").path
        let add = dir.appendingPathComponent("add.npz").path, pvae = dir.appendingPathComponent("pvae.npz").path
        XCTAssertEqual(try TestSupport.run("pv-train", ["--model", "additive", "-q", "--out", add, x, sp]).status, 0)
        XCTAssertEqual(try TestSupport.run("pv-train", ["--ensemble", "1", "--steps", "5", "--hidden", "8", "-q",
                                                        "--out", pvae, x, sp]).status, 0)
        let a = try TestSupport.run("pv-predict", ["--out", dir.appendingPathComponent("a").path, add, x, sp])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertTrue(a.stderr.contains("conditions (baseline additive) to "), a.stderr)
        let p = try TestSupport.run("pv-predict", ["--predict", "delta", "--out", dir.appendingPathComponent("p").path, pvae, x, sp])
        XCTAssertEqual(p.status, 0, p.stderr)
        XCTAssertTrue(p.stderr.contains("conditions (delta) to "), p.stderr)
    }
}
