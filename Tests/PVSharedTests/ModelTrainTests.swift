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

    static let small = ["--hidden", "32", "--latent-inv", "6", "--latent-resp", "3", "--batch", "32", "--lr", "1e-3", "--threads", "1",
                        "--u-compose", "mlp", "--ensemble", "1"]

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
            XCTAssertLessThan(e.mse, 0.75 * e.controlMSE, mode)
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

final class ModelRobustnessTests: XCTestCase {
    static func screenDir() throws -> (URL, String, String) {
        let dir = TestSupport.tempDir("pv-model")
        try TinyScreen().write(to: dir)
        return (dir, dir.appendingPathComponent("expr.npy").path, dir.appendingPathComponent("split.tsv").path)
    }

    static func tensors(_ path: String) throws -> [String: [Float]] {
        let m = try ModelFile(path: path)
        var out: [String: [Float]] = [:]
        for n in m.tensorNames { out[n] = try m.tensor(n) }
        return out
    }

    func testResumeGivesTheSameWeightsAsAnUninterruptedRun() throws {
        let (dir, expr, split) = try Self.screenDir()
        let args = ModelTrainTests.small + ["--epochs", "6", "--checkpoint-every", "1", "--seed", "3", expr, split]
        let full = dir.appendingPathComponent("full.npz").path, part = dir.appendingPathComponent("part.npz").path
        XCTAssertEqual(try TestSupport.run("pv-train", args + ["--out", full]).status, 0)
        let s = try TestSupport.run("pv-train", args + ["--out", part, "--stop-after-epoch", "3"])
        XCTAssertEqual(s.status, 0, s.stderr)
        let ck = try ModelFile(path: part)
        XCTAssertEqual((ck.meta["train_state"] as? [String: Any])?["epochs_done"] as? Int, 3)
        // Resuming with other settings is refused, naming the setting.
        let bad = try TestSupport.run("pv-train", ModelTrainTests.small + ["--epochs", "6", "--seed", "4", "--checkpoint-every", "1",
                                                                             "--resume", part, "--out", dir.appendingPathComponent("x.npz").path, expr, split])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("the checkpoint was made with seed = 3, this run has 4"), bad.stderr)
        let r = try TestSupport.run("pv-train", args + ["--out", part, "--resume", part])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("resuming from"), r.stderr)
        let a = try Self.tensors(full), b = try Self.tensors(part)
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        XCTAssertFalse(a.keys.contains("train.params"), "the final model carries no training state")
        for (k, v) in a { XCTAssertTrue(v == b[k]!, "tensor \(k) differs after resume") }
    }

    func testKilledRunResumesToTheSameWeights() throws {
        let (dir, expr, split) = try Self.screenDir()
        let args = ModelTrainTests.small + ["--epochs", "40", "--checkpoint-every", "1", "--seed", "5", "-q", expr, split]
        let full = dir.appendingPathComponent("full.npz").path, killed = dir.appendingPathComponent("killed.npz").path
        XCTAssertEqual(try TestSupport.run("pv-train", args + ["--out", full]).status, 0)
        let p = Process()
        p.executableURL = TestSupport.binDir.appendingPathComponent("pv-train")
        p.arguments = args + ["--out", killed]
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Kill it as soon as a first checkpoint exists (mid-epoch or mid-write: both must be safe).
        var waited = 0
        while !FileManager.default.fileExists(atPath: killed) && p.isRunning && waited < 30_000 { usleep(2_000); waited += 2 }
        let wasRunning = p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertTrue(wasRunning, "training finished before it could be killed; make the run longer")
        let ck = try ModelFile(path: killed)
        XCTAssertNotNil(ck.meta["train_state"], "the file left by the killed run is a checkpoint")
        let resume = ["--resume", killed]
        let r = try TestSupport.run("pv-train", args + ["--out", killed] + resume)
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try Self.tensors(full), b = try Self.tensors(killed)
        for (k, v) in a { XCTAssertTrue(v == b[k]!, "tensor \(k) differs after kill and resume") }
    }

    func testDivergenceStopsNamingEpochAndStepAndKeepsTheCheckpoint() throws {
        let (dir, expr, split) = try Self.screenDir()
        let out = dir.appendingPathComponent("div.npz").path
        let r = try TestSupport.run("pv-train", ModelTrainTests.small.filter { $0 != "1e-3" && $0 != "--lr" } +
                                    ["--lr", "0.05", "--epochs", "20", "--checkpoint-every", "1", "--seed", "1", "--out", out, expr, split])
        XCTAssertEqual(r.status, 65, r.stderr)
        let line = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(line.hasPrefix("pv-train: training diverged: non-finite loss"), line)
        guard let m = line.range(of: #"at epoch (\d+), step (\d+)"#, options: .regularExpression) else {
            return XCTFail("no epoch and step in: \(line)")
        }
        let epoch = Int(line[m].split(separator: " ")[2].dropLast())!
        if epoch > 1 {
            XCTAssertTrue(line.contains("last good checkpoint (epoch \(epoch - 1)) is kept in \(out)"), line)
            let ck = try ModelFile(path: out)
            XCTAssertEqual((ck.meta["train_state"] as? [String: Any])?["epochs_done"] as? Int, epoch - 1)
            for n in ck.tensorNames { XCTAssertTrue(try ck.tensor(n).allSatisfy { $0.isFinite }, n) }
        } else {
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
        XCTAssertFalse(TestSupport.files(in: dir).contains { $0.hasSuffix(".tmp") })
    }

    /// With checkpoints rarer than the epochs run before divergence, no checkpoint exists and the message must not
    /// claim one is kept (it once named "epoch 0").
    func testDivergenceBeforeTheFirstCheckpointClaimsNoCheckpoint() throws {
        let (dir, expr, split) = try Self.screenDir()
        let out = dir.appendingPathComponent("div.npz").path
        let r = try TestSupport.run("pv-train", ModelTrainTests.small.filter { $0 != "1e-3" && $0 != "--lr" } +
                                    ["--lr", "0.05", "--epochs", "20", "--checkpoint-every", "50", "--seed", "1", "--out", out, expr, split])
        XCTAssertEqual(r.status, 65, r.stderr)
        let line = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertFalse(line.contains("at epoch 1,"), "diverged in the first epoch; the test needs a later divergence: \(line)")
        XCTAssertTrue(line.contains("; no checkpoint had been written yet;"), line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testInitOnlyAndGradientOracle() throws {
        let (dir, expr, split) = try Self.screenDir()
        let m = dir.appendingPathComponent("init.npz").path
        let r = try TestSupport.run("pv-train", ModelTrainTests.small + ["--init-only", "--seed", "9", "--out", m, expr, split])
        XCTAssertEqual(r.status, 0, r.stderr)
        let model = try ModelFile(path: m)
        XCTAssertEqual(model.shape("enc1.W"), [60, 32])
        XCTAssertEqual(model.shape("ulnn.W"), [32, 3])
        // A batch of 2 cells, written as numpy would.
        var z = NPZ()
        let G = 60, K = 6
        var rng = RNG(seed: 1)
        func randn(_ n: Int) -> [Float] { (0..<n).map { _ in rng.normal() } }
        z.add("x", randn(2 * G), shape: [2, G]); z.add("x0", randn(2 * G), shape: [2, G])
        var u = [Float](repeating: 0, count: 2 * K); u[0] = 1; u[K + 1] = 1; u[K + 2] = 1
        z.add("u", u, shape: [2, K])
        z.add("eps_inv", randn(12), shape: [2, 6]); z.add("eps_resp", randn(6), shape: [2, 3])
        z.add("eps_inv0", randn(12), shape: [2, 6]); z.add("eps_resp0", randn(6), shape: [2, 3])
        z.add("coef", [0.01, 0.05], shape: [2])
        let bp = dir.appendingPathComponent("batch.npz").path, gp = dir.appendingPathComponent("grads.npz").path
        try z.write(bp)
        let g = try TestSupport.run("pv-train", ["--grad-check", bp, "--out", gp, m])
        XCTAssertEqual(g.status, 0, g.stderr)
        let out = try NPZ(path: gp)
        for n in ["loss", "mse", "mse0", "kl_resp", "kl_resp0", "kl_inv", "kl_inv0", "align"] {
            XCTAssertEqual(try out.array(n, file: gp).shape, [1], n)
        }
        let terms = try ["loss", "mse", "mse0", "kl_resp", "kl_resp0", "kl_inv", "kl_inv0", "align"].map { try out.array($0, file: gp).floatArray()[0] }
        XCTAssertEqual(terms[0], terms[1] + terms[2] + 0.01 * (terms[3] + terms[4] + terms[5] + terms[6]) + 0.05 * terms[7], accuracy: 1e-4)
        for n in model.tensorNames {
            XCTAssertEqual(try out.array("grad." + n, file: gp).shape, model.shape(n), n)
        }
        // A batch that does not fit the model is refused with the member named.
        var bad = NPZ()
        bad.add("x", randn(2 * 5), shape: [2, 5])
        try bad.write(bp)
        let b = try TestSupport.run("pv-train", ["--grad-check", bp, "--out", gp + "2", m])
        XCTAssertEqual(b.status, 65)
        XCTAssertTrue(b.stderr.contains("member x has shape [2, 5], expected [B, 60]"), b.stderr)
    }

    func testPredictErrorsAndOptions() throws {
        let (dir, expr, split) = try Self.screenDir()
        let m = dir.appendingPathComponent("m.npz").path
        XCTAssertEqual(try TestSupport.run("pv-train", ModelTrainTests.small + ["--steps", "200", "-q", "--out", m, expr, split]).status, 0)
        let lt = try TestSupport.run("pv-predict", ["--list-targets", m])
        XCTAssertEqual(lt.stdout, "T1\nT2\nT3\nT4\nT5\nT6\n")
        let out = dir.appendingPathComponent("pred")
        let bad = try TestSupport.run("pv-predict", ["--conditions", "T1+NOPE", "--out", out.path, m, expr, split])
        XCTAssertEqual(bad.status, 64)
        XCTAssertEqual(bad.stderr, "pv-predict: --conditions: gene NOPE of NOPE+T1 was not a perturbation target in training of \(m); see the known targets with: pv-predict --list-targets \(m)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("pred.npy").path))
        let graph = dir.appendingPathComponent("graph.tsv").path, lat = dir.appendingPathComponent("lat.tsv").path
        let ok = try TestSupport.run("pv-predict", ["--conditions", "T2+T1,T3", "--cells-per-condition", "7", "--predict", "delta",
                                                    "--latents", lat, "--graph", graph, "--edge-threshold", "0",
                                                    "--out", out.path, m, expr, split])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let (shape, vals) = try readNPYFloats(out.appendingPathComponent("pred.npy").path)
        XCTAssertEqual(shape, [14, 60])
        XCTAssertTrue(vals.allSatisfy { $0.isFinite })
        let tsv = try TSVTable(path: out.appendingPathComponent("pred.tsv").path)
        XCTAssertEqual(tsv.header, ["row", "condition", "control_barcode"])
        XCTAssertEqual(try tsv.values("condition"), Array(repeating: "T1+T2", count: 7) + Array(repeating: "T3", count: 7))
        XCTAssertTrue(try tsv.values("control_barcode").allSatisfy { $0.hasPrefix("ctrl-") })
        let g = try TSVTable(path: graph)
        XCTAssertEqual(try g.values("kind").filter { $0 == "edge" }.count, 7 * 3, "threshold 0: every entry of Lambda for ctrl and 6 targets")
        XCTAssertEqual(try g.values("kind").filter { $0 == "program" }.count, 6)
        let l = try TSVTable(path: lat)
        XCTAssertEqual(l.header.count, 3 + 6 + 3)
        // Same seed, same output; delta with the same noise is deterministic too.
        let out2 = dir.appendingPathComponent("pred2")
        XCTAssertEqual(try TestSupport.run("pv-predict", ["--conditions", "T1+T2,T3", "--cells-per-condition", "7", "--predict", "delta",
                                                          "--out", out2.path, m, expr, split]).status, 0)
        XCTAssertEqual(try readNPYFloats(out2.appendingPathComponent("pred.npy").path).1, vals)
    }
}

final class ModelBadInputTests: XCTestCase {
    func testTrainRejectsBadInputsAndLeavesNoOutput() throws {
        let (dir, expr, split) = try ModelRobustnessTests.screenDir()
        let out = dir.appendingPathComponent("m.npz").path
        let before = TestSupport.files(in: dir)
        let one = try TestSupport.run("pv-train", ["--out", out, expr])
        XCTAssertEqual(one.status, 64)
        XCTAssertTrue(one.stderr.hasPrefix("pv-train: expected 2 input arguments"), one.stderr)
        // A split with fewer rows than expr.npy.
        let lines = try String(contentsOfFile: split, encoding: .utf8).split(separator: "\n")
        let short = dir.appendingPathComponent("short.tsv").path
        try (lines.dropLast(5).joined(separator: "\n") + "\n").write(toFile: short, atomically: true, encoding: .utf8)
        let r = try TestSupport.run("pv-train", ["--out", out, expr, short])
        XCTAssertEqual(r.status, 65)
        XCTAssertTrue(r.stderr.contains("has 915 cells but"), r.stderr)
        // No single-gene training cells: nothing to learn targets from.
        let noSingles = dir.appendingPathComponent("nosingles.tsv").path
        let edited = lines.map { l -> String in
            let f = l.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5, f[3] == "train", f[2] != "ctrl", !f[2].contains("+") else { return String(l) }
            return [f[0], f[1], f[2], "val", f[4]].joined(separator: "\t")
        }
        try (edited.joined(separator: "\n") + "\n").write(toFile: noSingles, atomically: true, encoding: .utf8)
        let n = try TestSupport.run("pv-train", ["--out", out, expr, noSingles])
        XCTAssertEqual(n.status, 65)
        XCTAssertTrue(n.stderr.contains("no single-gene perturbation in set 'train'"), n.stderr)
        let bad = try TestSupport.run("pv-train", ["--out", out, "--u-compose", "sum", expr, split])
        XCTAssertEqual(bad.status, 64)
        XCTAssertEqual(bad.stderr, "pv-train: option --u-compose: expected one of mlp, additive, got 'sum'\n")
        XCTAssertEqual(TestSupport.files(in: dir), (before + ["nosingles.tsv", "short.tsv"]).sorted())
    }
}

final class ModelPredictBadModelTests: XCTestCase {
    /// A model that cannot be used is refused before pv-predict creates its output folder: nothing is left behind.
    func testPredictRejectsBadModelsBeforeCreatingTheOutputFolder() throws {
        let (dir, expr, split) = try ModelRobustnessTests.screenDir()
        let good = dir.appendingPathComponent("init.npz").path
        XCTAssertEqual(try TestSupport.run("pv-train", ModelTrainTests.small + ["--init-only", "-q", "--out", good, expr, split]).status, 0)
        let m = try ModelFile(path: good)
        // A pvae model without one of its tensors.
        var missing = ModelFile(kind: m.kind, genes: m.genes, targets: m.targets, meta: m.meta)
        for n in m.tensorNames where n != "dec3.W" { missing.set(n, try m.tensor(n), shape: m.shape(n)!) }
        let missingPath = dir.appendingPathComponent("missing.npz").path
        try missing.write(missingPath)
        // A model of a kind nobody knows.
        var bogus = m
        bogus.kind = "bogus"
        let bogusPath = dir.appendingPathComponent("bogus.npz").path
        try bogus.write(bogusPath)
        // A baseline, asked for what only a pvae has.
        let additive = dir.appendingPathComponent("additive.npz").path
        XCTAssertEqual(try TestSupport.run("pv-train", ["--model", "additive", "-q", "--out", additive, expr, split]).status, 0)
        // expr.npy of another normalisation with the same number of genes (two swapped in genes.tsv).
        let other = dir.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: expr, toPath: other.appendingPathComponent("expr.npy").path)
        var genes = TSVTable(header: ["gene_id", "symbol"])
        genes.rows = (0..<60).map { ["G\($0 + 1)", $0 == 2 ? "g4" : $0 == 3 ? "g3" : "g\($0 + 1)"] }
        try genes.write(other.appendingPathComponent("genes.tsv").path)
        let swapped = try TestSupport.run("pv-predict", ["--out", dir.appendingPathComponent("pred").path, good,
                                                         other.appendingPathComponent("expr.npy").path, split])
        XCTAssertEqual(swapped.status, 65, swapped.stderr)
        XCTAssertEqual(swapped.stderr, "pv-predict: \(other.appendingPathComponent("genes.tsv").path): gene 3 is 'g4' but \(good) has 'g3' there: \(other.appendingPathComponent("expr.npy").path) is not from the pv-normalize run the model was trained on\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("pred").path))
        let cases: [([String], Int32, String)] = [
            ([missingPath], 65, "pv-predict: \(missingPath): model has no tensor 'dec3.W' (kind pvae)\n"),
            ([bogusPath], 65, "pv-predict: \(bogusPath): model kind 'bogus' is unknown (expected pvae or a baseline: control, mean, additive, linear)\n"),
            (["--latents", dir.appendingPathComponent("lat.tsv").path, additive], 64,
             "pv-predict: --latents needs a pvae model (\(additive) is kind additive)\n"),
            (["--graph", dir.appendingPathComponent("graph.tsv").path, additive], 64,
             "pv-predict: --graph needs a pvae model (\(additive) is kind additive)\n"),
        ]
        for (args, status, message) in cases {
            let out = dir.appendingPathComponent("pred")
            let r = try TestSupport.run("pv-predict", ["--out", out.path] + args + [expr, split])
            XCTAssertEqual(r.status, status, r.stderr)
            XCTAssertEqual(r.stderr, message)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(args): the output folder was left behind")
            XCTAssertFalse(TestSupport.files(in: dir).contains { $0.hasPrefix("lat") || $0.hasPrefix("graph") })
        }
    }
}

final class ModelPredictPriorTests: XCTestCase {
    /// Re-decoding the same encoded cells under other labels (as validation does, once per condition) gives exactly
    /// what a full pass gives.
    func testReusedEncodingMatchesAFullPass() {
        var cfg = PVConfig(genes: 12, targets: 4)
        cfg.hidden = 8; cfg.latentInv = 3; cfg.latentResp = 2
        let vae = PerturbedVAE(config: cfg, maxRows: 6)
        vae.store.initialise(seed: 7)
        var rng = RNG(seed: 3)
        let rows = 5
        rng.fillNormal(vae.x.p, rows * cfg.genes)
        rng.fillNormal(vae.epsResp.p, rows * cfg.latentResp)
        for r in 0..<rows { vae.uIdx.p[r] = 1 }
        vae.unets.setLabel(0, targets: [])
        func run(_ targets: [Int], reuse: Bool) -> [Float] {
            vae.unets.setLabel(1, targets: targets)
            vae.predictPrior(rows: rows, labels: 2, reuseEncoding: reuse)
            return Array(UnsafeBufferPointer(start: vae.xh.p, count: rows * cfg.genes))
        }
        let a = run([0], reuse: false), b = run([1, 2], reuse: false)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(run([0], reuse: true), a)
        XCTAssertEqual(run([1, 2], reuse: true), b)
    }
}

final class ModelPredictDeltaTests: XCTestCase {
    /// --predict delta is x0 + f(u; n, z_ι(x0)) − f(0; n, z_ι(x0)) with one noise draw, computed here from two full
    /// prior passes (pv-predict encodes each control cell once and decodes it under both labels).
    func testDeltaIsControlPlusDifferenceOfTwoPriorPasses() {
        var cfg = PVConfig(genes: 10, targets: 3)
        cfg.hidden = 8; cfg.latentInv = 3; cfg.latentResp = 2
        let vae = PerturbedVAE(config: cfg, maxRows: 8)
        vae.store.initialise(seed: 11)
        let G = cfg.genes, n = 6, dN = cfg.latentResp
        var rng = RNG(seed: 5)
        var expr = [Float](repeating: 0, count: 9 * G)
        for i in expr.indices { expr[i] = rng.normal() }
        let sources = [4, 0, 7, 7, 2, 8]
        var got = [Float](repeating: 0, count: n * G)
        let pred = PVPredictor(vae: vae, targets: ["A", "B", "C"])
        var noise = RNG(seed: 9)
        expr.withUnsafeBufferPointer { e in
            got.withUnsafeMutableBufferPointer { pred.predict(targets: [0, 2], sources: sources, expr: e.baseAddress!, mode: .delta, rng: &noise, out: $0.baseAddress!) }
        }
        // The same noise, two full passes.
        let again = RNG(seed: 9)
        func pass(_ label: Int) -> [Float] {
            for (k, s) in sources.enumerated() { for j in 0..<G { vae.x.p[k * G + j] = expr[s * G + j] }; vae.uIdx.p[k] = label }
            var r = again
            r.fillNormal(vae.epsResp.p, n * dN)
            vae.unets.setLabel(0, targets: []); vae.unets.setLabel(1, targets: [0, 2])
            vae.predictPrior(rows: n, labels: 2)
            return Array(UnsafeBufferPointer(start: vae.xh.p, count: n * G))
        }
        let fu = pass(1), f0 = pass(0)
        var want = [Float](repeating: 0, count: n * G)
        for k in 0..<n { for j in 0..<G { want[k * G + j] = expr[sources[k] * G + j] + fu[k * G + j] - f0[k * G + j] } }
        XCTAssertEqual(got, want)
        XCTAssertNotEqual(fu, f0)
    }
}

final class ModelTrainingDataTests: XCTestCase {
    /// ctrl, singles A B C in train; A has val cells; A+B is a val-only condition; B+C is a test condition that
    /// also has a val cell (a hand-edited split).
    static func split() -> SplitTable {
        let rows: [(String, String)] = [("ctrl", "train"), ("ctrl", "train"), ("A", "train"), ("B", "train"), ("C", "train"),
                                        ("A", "val"), ("A+B", "val"), ("B+C", "test"), ("B+C", "val"), ("A", "test")]
        return SplitTable(barcodes: rows.indices.map { "c\($0)" }, labels: rows.map { $0.0 }, conditions: rows.map { $0.0 },
                          sets: rows.map { $0.1 }, groups: rows.map { $0.0.contains("+") ? "double" : "single" })
    }

    /// Validation uses val cells of trained conditions and of val-only conditions, never of a test condition.
    func testValidationNeverUsesATestCondition() throws {
        let data = try TrainingData(split: Self.split())
        XCTAssertEqual(data.valRows, [5, 6])
        XCTAssertEqual(data.valCondition.map { data.conditions[$0] }, ["A", "A+B"])
    }

    func testMetaListsOnlyTheConditionsTrainedOn() throws {
        let data = try TrainingData(split: Self.split())
        var cfg = PVConfig(genes: 4, targets: data.targets.count)
        cfg.hidden = 4; cfg.latentInv = 2; cfg.latentResp = 1
        let expr = [Float](repeating: 0.5, count: 10 * 4)
        var s = TrainSettings(); s.batch = 2
        let meta = expr.withUnsafeBufferPointer { buf in
            Trainer(config: cfg, data: data, expr: buf.baseAddress!, genes: ["g1", "g2", "g3", "g4"], settings: s).modelFile().meta
        }
        XCTAssertEqual(meta["train_conditions"] as? [String], ["A", "B", "C"])
    }
}
