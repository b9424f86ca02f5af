import XCTest
import PVShared

/// pv-train / pv-predict end to end on a tiny simulated screen: accuracy against the control baseline,
/// resume determinism, divergence handling, prediction options and errors.
final class ModelTrainTests: XCTestCase {
    /// Held-out doubles: mean Pearson of predicted vs true change from control, and the MSE of the predicted
    /// means against the control baseline's.
    static func evaluate(dir: URL, screen: TinyScreen, pred: URL) throws -> (pearson: Double, mse: Double, controlMSE: Double) {
        let (pshape, pvals) = try readNPYFloats(pred.appendingPathComponent("pred.npy").path)
        let tsv = try TSVTable(path: pred.appendingPathComponent("pred.tsv").path)
        let conds = try tsv.values("condition")
        XCTAssertEqual(pshape, [conds.count, screen.genes])
        let G = screen.genes
        let ctrl = TinyScreen.mean(screen.expr, cols: G, rows: screen.conditions.indices.filter { screen.conditions[$0] == "ctrl" })
        var ps: [Double] = [], mse = 0.0, cmse = 0.0
        for c in screen.testDoubles {
            let truth = TinyScreen.mean(screen.expr, cols: G, rows: screen.conditions.indices.filter { screen.conditions[$0] == c })
            let p = TinyScreen.mean(pvals, cols: G, rows: conds.indices.filter { conds[$0] == c })
            ps.append(TinyScreen.pearson(p.indices.map { p[$0] - ctrl[$0] }, truth.indices.map { truth[$0] - ctrl[$0] }))
            mse += zip(p, truth).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(G)
            cmse += zip(ctrl, truth).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(G)
        }
        let n = Double(screen.testDoubles.count)
        return (ps.reduce(0, +) / n, mse / n, cmse / n)
    }

    static let small = ["--hidden", "32", "--latent-inv", "6", "--latent-resp", "3", "--batch", "32", "--lr", "1e-3", "--threads", "1"]

    func testSimulatedScreenBeatsControlOnHeldOutDoubles() throws {
        let dir = TestSupport.tempDir("pv-model")
        let screen = TinyScreen()
        try screen.write(to: dir)
        let model = dir.appendingPathComponent("model.npz").path
        let t = try TestSupport.run("pv-train", Self.small + ["--steps", "3000", "--seed", "1", "--out", model,
                                                              dir.appendingPathComponent("expr.npy").path, dir.appendingPathComponent("split.tsv").path])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stderr.contains("kl_inv"), t.stderr)
        for mode in ["prior", "delta"] {
            let out = dir.appendingPathComponent("pred-\(mode)")
            let p = try TestSupport.run("pv-predict", ["--predict", mode, "--seed", "2", "--out", out.path, model,
                                                       dir.appendingPathComponent("expr.npy").path, dir.appendingPathComponent("split.tsv").path])
            XCTAssertEqual(p.status, 0, p.stderr)
            let e = try Self.evaluate(dir: dir, screen: screen, pred: out)
            print(String(format: "simulated screen, %@: held-out doubles mean Pearson delta %.3f, MSE %.4f (control baseline %.4f)",
                         mode, e.pearson, e.mse, e.controlMSE))
            XCTAssertGreaterThan(e.pearson, 0.6, mode)
            XCTAssertLessThan(e.mse, 0.5 * e.controlMSE, mode)
        }
        // meta.json records the selection and the history.
        let m = try ModelFile(path: model)
        XCTAssertEqual(m.kind, "pvae")
        XCTAssertEqual(m.targets, screen.targetNames)
        XCTAssertEqual(m.genes.first, "g1")
        XCTAssertEqual((m.meta["selected"] as? [String: Any])?["by"] as? String, "val")
        XCTAssertFalse((m.meta["history"] as? [Any] ?? []).isEmpty)
    }
}
