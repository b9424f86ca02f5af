import Foundation
import XCTest
import PVShared

/// Issue 14 phase 2: ensembles in one model file (`pv-train --ensemble N`), validation doubles (`pv-split
/// --val-doubles`), and `pv-predict --predict interaction` with empirical-Bayes or validation-fitted weights.
final class EnsembleInteractionTests: XCTestCase {
    struct Cases: Decodable {
        struct EB: Decodable { let members: [[Double]]; let mean: [Double]; let shrunk: [Double]; let tau2: Double }
        struct Fit: Decodable { let a: [[Double]]; let I: [[Double]]; let y: [[Double]]; let kappa: Double; let lambda: Double }
        let eb: [EB]; let fit: [Fit]
    }

    func cases() throws -> Cases {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("interaction/cases.json")))
        return try JSONDecoder().decode(Cases.self, from: data)
    }

    /// Known answers from numpy (Tests/reference/make_interaction_fixture.py), including a case where τ² clamps to 0.
    func testEmpiricalBayesMatchesNumpy() throws {
        for (i, c) in try cases().eb.enumerated() {
            let r = InteractionShrinkage.empiricalBayes(c.members)
            XCTAssertEqual(r.tau2, c.tau2, accuracy: 1e-12 * max(1, c.tau2), "case \(i)")
            for g in c.mean.indices {
                XCTAssertEqual(r.mean[g], c.mean[g], accuracy: 1e-12, "case \(i) gene \(g)")
                XCTAssertEqual(r.shrunk[g], c.shrunk[g], accuracy: 1e-12, "case \(i) gene \(g)")
            }
        }
        // One member: nothing to shrink by, the interaction is dropped (plain additive).
        XCTAssertEqual(InteractionShrinkage.empiricalBayes([[1, 2, 3]]).shrunk, [0, 0, 0])
    }

    func testDampedInteractionFitMatchesNumpy() throws {
        for (i, c) in try cases().fit.enumerated() {
            let w = InteractionShrinkage.fitDampedInteraction(additive: c.a, interaction: c.I, truth: c.y)
            XCTAssertEqual(w.kappa, c.kappa, accuracy: 1e-10, "case \(i)")
            XCTAssertEqual(w.lambda, c.lambda, accuracy: 1e-10, "case \(i)")
        }
        // A zero interaction leaves the one-variable damping: κ = a·y / a·a, λ = 0.
        let w = InteractionShrinkage.fitDampedInteraction(additive: [[1, 2]], interaction: [[0, 0]], truth: [[2, 3]])
        XCTAssertEqual(w.kappa, 8.0 / 5.0, accuracy: 1e-12); XCTAssertEqual(w.lambda, 0)
    }

    static let small = ["--hidden", "16", "--latent-inv", "4", "--latent-resp", "2", "--steps", "40", "--lr", "1e-3",
                        "--threads", "1", "--quiet"]

    /// A tiny screen whose first test double is moved to val (a validation double).
    func screen() throws -> (URL, TinyScreen, String) {
        let dir = TestSupport.tempDir("ens")
        var s = TinyScreen(genes: 24, targets: 4, cells: 40, controls: 120, seed: 3)
        let valDouble = s.testDoubles[0]
        for i in 0..<s.rows where s.conditions[i] == valDouble { s.sets[i] = "val" }
        try s.write(to: dir)
        return (dir, s, valDouble)
    }

    /// Member k of `--ensemble 2 --seed 5` is bit for bit the model of `--ensemble 1 --seed 5+k`; a 1-member file has
    /// no prefixed tensors; pv-predict's means of the ensemble are the mean of its members' expectations.
    func testEnsembleMembersAreTheSingleSeedModels() throws {
        let (dir, _, _) = try screen()
        let x = dir.appendingPathComponent("expr.npy").path, sp = dir.appendingPathComponent("split.tsv").path
        func train(_ out: String, _ extra: [String]) throws -> ModelFile {
            let r = try TestSupport.run("pv-train", Self.small + extra + ["--out", dir.appendingPathComponent(out).path, x, sp])
            XCTAssertEqual(r.status, 0, r.stderr)
            return try ModelFile(path: dir.appendingPathComponent(out).path)
        }
        let ens = try train("ens.npz", ["--ensemble", "2", "--seed", "5"])
        let s5 = try train("s5.npz", ["--ensemble", "1", "--seed", "5"])
        let s6 = try train("s6.npz", ["--ensemble", "1", "--seed", "6"])
        XCTAssertEqual(ens.memberCount, 2); XCTAssertEqual(s5.memberCount, 1)
        XCTAssertFalse(s5.tensorNames.contains { $0.contains("/") })
        XCTAssertTrue(ens.tensorNames.contains { $0.hasPrefix("m1/") })
        for (k, single) in [s5, s6].enumerated() {
            let m = try ens.member(k)
            XCTAssertEqual(m.meta["seed"] as? Int, 5 + k)
            XCTAssertEqual(Set(m.tensorNames), Set(single.tensorNames))
            for n in single.tensorNames { XCTAssertEqual(try m.tensor(n), try single.tensor(n), "member \(k) tensor \(n)") }
        }
        XCTAssertNotEqual(try ens.member(0).tensor(s5.tensorNames[0]), try ens.member(1).tensor(s5.tensorNames[0]))

        let loaded = try LoadedModel(path: dir.appendingPathComponent("ens.npz").path, cols: 24, exprPath: x, mode: .delta)
        XCTAssertEqual(loaded.members.count, 2)
        let ep = try XCTUnwrap(loaded.predictor as? EnsemblePredictor)
        let (_, _, values) = try NPYArray(path: x).matrix()
        let split = try SplitTable(path: sp)
        let controls = split.rows(set: "train", condition: "ctrl")
        let one = try LoadedModel(path: dir.appendingPathComponent("s5.npz").path, cols: 24, exprPath: x, mode: .delta)
        let two = try LoadedModel(path: dir.appendingPathComponent("s6.npz").path, cols: 24, exprPath: x, mode: .delta)
        var r0 = RNG(seed: 9), r1 = RNG(seed: 9), r2 = RNG(seed: 9)
        let e = try ep.rawMean(condition: "T1+T2", controls: controls, expr: values.baseAddress!, rng: &r0)
        let a = try one.pvae!.rawMean(condition: "T1+T2", controls: controls, expr: values.baseAddress!, rng: &r1)
        let b = try two.pvae!.rawMean(condition: "T1+T2", controls: controls, expr: values.baseAddress!, rng: &r2)
        for g in 0..<24 { XCTAssertEqual(e[g], (a[g] + b[g]) / 2, accuracy: 1e-9) }
    }

    /// With two threads, members train side by side (two at a time, one thread each, then the third alone on both):
    /// each is still bit for bit the model of a single-seed run on two threads. The screen is big enough (600 genes,
    /// batch 64 + 64 partners) that the single runs split rows and products across threads; a member in a pair runs
    /// the same fixed partitions on fewer free threads.
    func testSideBySideMembersAreTheSingleSeedModels() throws {
        let dir = TestSupport.tempDir("ens2")
        try TinyScreen(genes: 600, targets: 4, cells: 80, controls: 200, seed: 4).write(to: dir)
        let x = dir.appendingPathComponent("expr.npy").path, sp = dir.appendingPathComponent("split.tsv").path
        func train(_ out: String, _ extra: [String]) throws -> ModelFile {
            let opts = ["--hidden", "64", "--latent-inv", "4", "--latent-resp", "2", "--steps", "30", "--threads", "2", "--quiet"]
            let r = try TestSupport.run("pv-train", opts + extra + ["--out", dir.appendingPathComponent(out).path, x, sp])
            XCTAssertEqual(r.status, 0, r.stderr)
            return try ModelFile(path: dir.appendingPathComponent(out).path)
        }
        let ens = try train("ens.npz", ["--ensemble", "3", "--seed", "2"])
        XCTAssertEqual(ens.memberCount, 3)
        for k in 0..<3 {
            let single = try train("s\(k).npz", ["--ensemble", "1", "--seed", "\(2 + k)"])
            let m = try ens.member(k)
            XCTAssertEqual(Set(m.tensorNames), Set(single.tensorNames))
            for n in single.tensorNames { XCTAssertEqual(try m.tensor(n), try single.tensor(n), "member \(k) tensor \(n)") }
        }
    }

    /// pv-predict --predict interaction on an ensemble: with --shrink val the weights printed into means.tsv are the
    /// least-squares fit on the validation double's true change (recomputed here from expr.npy), and every test
    /// double's mean is max(0, c + κ·a + λ·Ī) with a the exact additive change of the training singles; with --shrink
    /// eb the mean is max(0, c + a + EB-shrunk Ī); a 1-member model predicts plain additive and says so.
    func testInteractionPredictionFromMembers() throws {
        let (dir, s, valDouble) = try screen()
        let x = dir.appendingPathComponent("expr.npy").path, sp = dir.appendingPathComponent("split.tsv").path
        let model = dir.appendingPathComponent("ens.npz").path
        var r = try TestSupport.run("pv-train", Self.small + ["--ensemble", "3", "--seed", "1", "--out", model, x, sp])
        XCTAssertEqual(r.status, 0, r.stderr)
        let G = 24
        let split = try SplitTable(path: sp)
        let controls = split.rows(set: "train", condition: "ctrl")
        func mean(_ rows: [Int]) -> [Double] { TinyScreen.mean(s.expr, cols: G, rows: rows) }
        let c = mean(controls)
        func additive(_ d: String) -> [Double] {
            var a = [Double](repeating: 0, count: G)
            for g in Condition.genes(d) { let m = mean(split.rows(set: "train", condition: g)); for j in 0..<G { a[j] += m[j] - c[j] } }
            return a
        }
        let loaded = try LoadedModel(path: model, cols: G, exprPath: x, mode: .delta)
        let expr = s.expr
        func interactions(_ d: String) throws -> [[Double]] {
            try expr.withUnsafeBufferPointer { e in
                try loaded.members.map { p -> [Double] in
                    func m(_ cond: String) throws -> [Double] {
                        var rng = InteractionPredictor.rng(cond, seed: 0)
                        return try p.rawMean(condition: cond, controls: controls, expr: e.baseAddress!, rng: &rng)
                    }
                    let ab = try m(d), gs = Condition.genes(d)
                    let a = try m(gs[0]), b = try m(gs[1])
                    return (0..<G).map { ab[$0] - a[$0] - b[$0] + c[$0] }
                }
            }
        }
        // --shrink val: κ, λ from the validation double only.
        let truthVal = mean(split.rows(set: "val", condition: valDouble)).enumerated().map { $1 - c[$0] }
        let iVal = InteractionShrinkage.empiricalBayes(try interactions(valDouble)).mean
        let w = InteractionShrinkage.fitDampedInteraction(additive: [additive(valDouble)], interaction: [iVal], truth: [truthVal])
        let out = dir.appendingPathComponent("pv").path
        r = try TestSupport.run("pv-predict", ["--predict", "interaction", "--shrink", "val", "--threads", "1", "--out", out, model, x, sp])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("--shrink val: kappa"), r.stderr)
        let tsv = try String(contentsOfFile: out + "/means.tsv", encoding: .utf8)
        // The weights in means.tsv's provenance equal the fit recomputed here (to the printed 6 digits, float32 sums).
        let note = try XCTUnwrap(tsv.split(separator: "\n").first { $0.hasPrefix("# interaction: shrink val, kappa ") }, tsv)
        let nums = note.replacingOccurrences(of: ",", with: " ").split(separator: " ").compactMap { Double($0) }
        XCTAssertEqual(nums[0], w.kappa, accuracy: 1e-4 * max(1, abs(w.kappa)), String(note))
        XCTAssertEqual(nums[1], w.lambda, accuracy: 1e-4 * max(1, abs(w.lambda)), String(note))
        let (shape, means) = try readNPYFloats(out + "/means.npy")
        let conds = tsv.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst().map { String($0.split(separator: "\t")[1]) }
        XCTAssertEqual(shape, [conds.count, G])
        XCTAssertFalse(conds.contains(valDouble), "a validation double is never predicted as test")
        XCTAssertEqual(Set(conds), Set(s.testDoubles.dropFirst()))
        for (i, d) in conds.enumerated() {
            let a = additive(d), ib = InteractionShrinkage.empiricalBayes(try interactions(d)).mean
            for j in 0..<G {
                XCTAssertEqual(Double(means[i * G + j]), max(0, c[j] + w.kappa * a[j] + w.lambda * ib[j]), accuracy: 1e-4, "\(d) gene \(j)")
            }
        }
        // --shrink eb.
        let outEB = dir.appendingPathComponent("eb").path
        r = try TestSupport.run("pv-predict", ["--predict", "interaction", "--shrink", "eb", "--threads", "1", "--out", outEB, model, x, sp])
        XCTAssertEqual(r.status, 0, r.stderr)
        let (_, meb) = try readNPYFloats(outEB + "/means.npy")
        for (i, d) in conds.enumerated() {
            let a = additive(d), sh = InteractionShrinkage.empiricalBayes(try interactions(d)).shrunk
            for j in 0..<G { XCTAssertEqual(Double(meb[i * G + j]), max(0, c[j] + a[j] + sh[j]), accuracy: 1e-4, "\(d) gene \(j)") }
        }
        // One member: plain additive, with a warning.
        let single = dir.appendingPathComponent("one.npz").path
        r = try TestSupport.run("pv-train", Self.small + ["--ensemble", "1", "--out", single, x, sp])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out1 = dir.appendingPathComponent("one").path
        r = try TestSupport.run("pv-predict", ["--predict", "interaction", "--out", out1, single, x, sp])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("1-member model"), r.stderr)
        let (_, m1) = try readNPYFloats(out1 + "/means.npy")
        for (i, d) in conds.enumerated() {
            let a = additive(d)
            for j in 0..<G { XCTAssertEqual(Double(m1[i * G + j]), max(0, c[j] + a[j]), accuracy: 1e-4) }
        }
    }

    /// The defaults are the benchmarked configuration; --paper the paper's hyperparameters; options given explicitly
    /// win over --paper; --epochs alone replaces the default step budget.
    func testDefaultsAndPaper() throws {
        func parse(_ a: [String]) throws -> (TrainSettings, PVConfig, Options) {
            let o = try Options(tool: "pv-train", synopsis: "", description: "", options: TrainOptions.all,
                                arguments: a + ["--quiet"], positionals: 0...2)
            return (try TrainSettings(o, trainCells: 1000), PVConfig(o, genes: 10, targets: 20), o)
        }
        let (d, dc, o) = try parse([])
        XCTAssertEqual(d.steps, 4000); XCTAssertEqual(d.lr, 1e-3); XCTAssertEqual(dc.uCompose, .additive)
        XCTAssertEqual(o[TrainOptions.ensemble], 3)
        let (p, pc, _) = try parse(["--paper"])
        XCTAssertNil(p.steps); XCTAssertEqual(p.epochs, 100); XCTAssertEqual(p.lr, 1e-4); XCTAssertEqual(p.beta, 1e-2)
        XCTAssertEqual(p.alpha, 0.05); XCTAssertEqual(pc.uCompose, .mlp)
        let (q, qc, _) = try parse(["--paper", "--lr", "5e-4", "--u-compose", "additive"])
        XCTAssertEqual(q.lr, 5e-4); XCTAssertEqual(qc.uCompose, .additive)
        XCTAssertEqual(try TrainCommand.memberCount(o, settings: d), 3)
        let (_, _, po) = try parse(["--paper"])
        XCTAssertEqual(try TrainCommand.memberCount(po, settings: p), 1)
        let (ck, _, cko) = try parse(["--checkpoint-every", "1"])
        XCTAssertEqual(try TrainCommand.memberCount(cko, settings: ck), 1, "checkpoints train one model")
        let (ck3, _, ck3o) = try parse(["--checkpoint-every", "1", "--ensemble", "3"])
        XCTAssertThrowsError(try TrainCommand.memberCount(ck3o, settings: ck3))
        let (e, _, _) = try parse(["--epochs", "7"])
        XCTAssertNil(e.steps); XCTAssertEqual(e.epochs, 7)
    }
}
