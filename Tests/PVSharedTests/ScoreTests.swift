import Foundation
import XCTest
import PVShared

/// pv-score against the numpy/scipy reference (Tests/reference/make_score_fixture.py), its edge cases and errors.
final class ScoreTests: XCTestCase {
    let dir = TestSupport.fixture("score")
    var expr: String { dir + "/expr.npy" }
    var split: String { dir + "/split.tsv" }
    func pred(_ name: String) -> String { "\(name)=\(dir)/\(name)/pred.npy" }

    /// Values of a TSV keyed by the first `keys` columns.
    func rows(_ path: String, keys: Int) throws -> (header: [String], rows: [String: [String]]) {
        let t = try TSVTable(path: path)
        var out: [String: [String]] = [:]
        for r in t.rows { out[r[0..<keys].joined(separator: "|")] = r }
        return (t.header, out)
    }

    func assertClose(_ got: String, _ want: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let a = Double(got), let b = Double(want) else { return XCTAssertEqual(got, want, what, file: file, line: line) }
        XCTAssertLessThanOrEqual(abs(a - b), 1e-5 * max(1, abs(b)), "\(what): got \(got), expected \(want)", file: file, line: line)
    }

    func testEveryMetricAndTheDEGenesMatchTheNumpyReference() throws {
        let tmp = TestSupport.tempDir("pv-score")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let out = tmp.appendingPathComponent("scores.tsv").path, de = tmp.appendingPathComponent("de.tsv").path
        let json = tmp.appendingPathComponent("scores.json").path
        let r = try TestSupport.run("pv-score", ["--pred", pred("good"), "--pred", pred("ctrl"), "--pred", pred("means"),
                                                 "--l2-genes", "10", "--out", out, "--de-out", de, "--json", json, expr, split])
        XCTAssertEqual(r.status, 0, r.stderr)
        var got = try rows(out, keys: 2)
        let want = try rows(dir + "/expected.tsv", keys: 2)
        got.rows = got.rows.filter { !$0.key.hasPrefix("ceiling|") }
        XCTAssertEqual(got.header, want.header)
        XCTAssertEqual(Set(got.rows.keys), Set(want.rows.keys))
        for (k, w) in want.rows {
            guard let g = got.rows[k] else { continue }
            for i in 2..<w.count { assertClose(g[i], w[i], "\(k) \(want.header[i])") }
        }
        let gotDE = try TSVTable(path: de).rows, wantDE = try TSVTable(path: dir + "/expected_de.tsv").rows
        XCTAssertEqual(gotDE, wantDE)
        // Group means in the JSON.
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let preds = doc["predictions"] as! [[String: Any]]
        let groups = try rows(dir + "/expected_groups.tsv", keys: 2)
        var checked = 0
        for p in preds where p["name"] as? String != Scorer.ceiling {
            let gs = p["groups"] as! [String: Any]
            for (gname, gv) in gs {
                let g = gv as! [String: Any], m = g["metrics"] as! [String: Any]
                guard let w = groups.rows["\(p["name"]!)|\(gname)"] else { XCTFail("unexpected group \(gname)"); continue }
                XCTAssertEqual("\(g["n_conditions"]!)", w[2])
                for i in 3..<w.count {
                    let v = m[groups.header[i]]!
                    assertClose(v is NSNull ? "" : "\(v)", w[i], "\(p["name"]!) \(gname) \(groups.header[i])"); checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 3 * 3 * ScoreMetric.allCases.count)
        // Summary on stdout: one column per prediction and the ceiling, the best prediction starred.
        XCTAssertTrue(r.stdout.contains("good") && r.stdout.contains("ceiling"), r.stdout)
        let mseLine = r.stdout.split(separator: "\n").first { $0.hasPrefix("double") && $0.contains(" mse ") }
        XCTAssertNotNil(mseLine)
        XCTAssertTrue(mseLine.map { $0.contains("0.0192*") && $0.contains("0.0470 ") && !$0.contains("1.3025*") } ?? false, String(mseLine ?? ""))
        // Undefined interaction metrics of singles: no row for them in the single group, empty in the TSV.
        XCTAssertFalse(r.stdout.split(separator: "\n").contains { $0.hasPrefix("single") && $0.contains("interaction") }, r.stdout)
    }

    func testExternalDEFileGivesTheSameScoresAndUnknownGenesFail() throws {
        let tmp = TestSupport.tempDir("pv-score")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let a = try TestSupport.run("pv-score", ["--pred", pred("good"), "--out", "-", "-q", expr, split])
        let b = try TestSupport.run("pv-score", ["--pred", pred("good"), "--out", "-", "-q", "--de", dir + "/expected_de.tsv", expr, split])
        XCTAssertEqual(a.status, 0, a.stderr); XCTAssertEqual(b.status, 0, b.stderr)
        let strip = { (s: String) in s.split(separator: "\n").filter { !$0.hasPrefix("#") } }
        XCTAssertEqual(strip(a.stdout), strip(b.stdout))
        XCTAssertFalse(a.stdout.contains("n_conditions"), "TSV on stdout replaces the summary")
        let bad = tmp.appendingPathComponent("de.tsv").path
        try "condition\tgenes\nA\tG01,NOPE\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let c = try TestSupport.run("pv-score", ["--pred", pred("good"), "--de", bad, expr, split])
        XCTAssertEqual(c.status, 65)
        XCTAssertTrue(c.stderr.hasPrefix("pv-score: \(bad):2: gene 'NOPE'"), c.stderr)
    }

    func testDefaultL2GenesCoverAllGenesOfASmallScreen() throws {
        let r = try TestSupport.run("pv-score", ["--pred", pred("good"), "--out", "-", expr, split])
        XCTAssertEqual(r.status, 0, r.stderr)
        let t = try TSVTable(path: writeTemp(r.stdout))
        let mse = try t.column("mse"), l2 = try t.column("l2_top1000")
        for row in t.rows {
            // 40 genes < 1000: the L2 norm covers all of them, so l2² = 40 · mse.
            XCTAssertEqual(pow(Double(row[l2])!, 2), 40 * Double(row[mse])!, accuracy: 1e-5)
        }
    }

    func testConditionAbsentFromTruthFailsUnlessAllowed() throws {
        let tmp = TestSupport.tempDir("pv-score")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let out = tmp.appendingPathComponent("s.tsv").path
        let r = try TestSupport.run("pv-score", ["--pred", pred("extra"), "--out", out, "--json", out + ".json", expr, split])
        XCTAssertEqual(r.status, 65)
        XCTAssertTrue(r.stderr.contains("extra/pred.tsv:"), r.stderr)
        XCTAssertTrue(r.stderr.contains("condition C has no true cells in set 'test'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--allow-missing"), r.stderr)
        XCTAssertEqual(TestSupport.files(in: tmp), [])
        let ok = try TestSupport.run("pv-score", ["--pred", pred("extra"), "--allow-missing", "--out", out, expr, split])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stderr.contains("extra: 1 condition without cells in set 'test' of \(split) skipped (--allow-missing): C"), ok.stderr)
        XCTAssertEqual(try TSVTable(path: out).rows.filter { $0[0] != Scorer.ceiling }.count, 3)
    }

    func testNaNInAPredictionNamesRowGeneAndCondition() throws {
        let tmp = TestSupport.tempDir("pv-score")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let out = tmp.appendingPathComponent("s.tsv").path
        let r = try TestSupport.run("pv-score", ["--pred", pred("nan"), "--out", out, "--de-out", out + ".de", expr, split])
        XCTAssertEqual(r.status, 65)
        XCTAssertTrue(r.stderr.hasPrefix("pv-score: \(dir)/nan/pred.npy: row 5 (condition A+B), gene G07 (column 7): value is nan"), r.stderr)
        XCTAssertEqual(TestSupport.files(in: tmp), [])
    }

    func testNaNInTheTruthNamesCellAndGene() throws {
        let tmp = TestSupport.tempDir("pv-score")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let a = try NPYArray(path: expr)
        var v = Array(try a.floats())
        v[3 * 40 + 2] = .nan
        let bad = tmp.appendingPathComponent("expr.npy").path
        try writeNPY(bad, v, shape: a.shape)
        let r = try TestSupport.run("pv-score", ["--pred", pred("good"), bad, split])
        XCTAssertEqual(r.status, 65)
        XCTAssertTrue(r.stderr.contains("row 3 (cell ctrl-train-3, condition ctrl), gene gene2 (column 2): value is nan"), r.stderr)
    }

    func testPredictionWithOtherGenesOrNoTsvIsRejected() throws {
        let tmp = TestSupport.tempDir("pv-score")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let p = tmp.appendingPathComponent("pred.npy").path
        try writeNPY(p, [Float](repeating: 0, count: 6), shape: [2, 3])
        let r = try TestSupport.run("pv-score", ["--pred", "x=\(p)", expr, split])
        XCTAssertEqual(r.status, 65)
        XCTAssertTrue(r.stderr.contains("has 3 genes (columns) but the truth has 40"), r.stderr)
        try writeNPY(p, [Float](repeating: 0, count: 80), shape: [2, 40])
        let m = try TestSupport.run("pv-score", ["--pred", "x=\(p)", expr, split])
        XCTAssertEqual(m.status, 66)
        XCTAssertTrue(m.stderr.contains("no pred.tsv beside"), m.stderr)
        let u = try TestSupport.run("pv-score", [expr, split])
        XCTAssertEqual(u.status, 64)
        XCTAssertTrue(u.stderr.contains("--pred"), u.stderr)
    }

    func testAPredictionCoveringFewerConditionsIsFlaggedAndNotStarred() throws {
        let tmp = TestSupport.tempDir("pv-score")
        defer { try? FileManager.default.removeItem(at: tmp) }
        // "partial" = the good prediction's cells of condition A only.
        try TestSupport.writePredictionSubset(from: dir + "/good", to: tmp.path) { $0 == "A" }
        let r = try TestSupport.run("pv-score", ["--pred", "partial=\(tmp.path)/pred.npy", "--pred", pred("ctrl"), expr, split])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("partial: no predicted cells for 2 of 3 conditions in set 'test' (A+B, B)"), r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let n = lines.first { $0.hasPrefix("all") && $0.contains("n_conditions") } ?? ""
        XCTAssertTrue(n.contains("1!") && n.contains("3 "), n)
        let mse = lines.first { $0.hasPrefix("all") && $0.contains(" mse ") } ?? ""
        let f = mse.split(separator: " ").map(String.init)   // all mse lower partial ctrl ceiling
        XCTAssertTrue(f[4].hasSuffix("*") && !f[3].hasSuffix("*") && !f[5].hasSuffix("*"), "only the full-coverage prediction is starred: \(mse)")
        let single = lines.first { $0.hasPrefix("single") && $0.contains(" mse ") } ?? ""
        XCTAssertTrue(single.contains("0.0386 ") && single.contains("0.5198*"), "partial covers 1 of 2 singles, so ctrl gets the star: \(single)")
    }

    func testAFailingOutputLeavesNoOtherOutputBehind() throws {
        let tmp = TestSupport.tempDir("pv-score")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let r = try TestSupport.run("pv-score", ["--pred", pred("good"), "--out", tmp.appendingPathComponent("s.tsv").path,
                                                 "--json", tmp.path + "/no/such/folder/s.json", expr, split])
        XCTAssertEqual(r.status, 74)
        XCTAssertTrue(r.stderr.contains("folder"), r.stderr)
        XCTAssertEqual(TestSupport.files(in: tmp), [])
    }

    func testBlockMetricsKnownValues() throws {
        // Identical blocks: MMD 0, rmse 0, r2_dvae 1. One-cell blocks a and b: MMD = 2·(10 − Σ_i exp(−d²/bw_i)).
        let ws = BlockMetrics(maxBlock: 4, cols: 3)
        let a: [Float] = [1, 2, 3], b: [Float] = [1, 2, 13]
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let same = ws.compute(pred: [pa.baseAddress!], truth: [pa.baseAddress!])
                XCTAssertEqual(same.mmd, 0, accuracy: 1e-12)
                XCTAssertEqual(same.rmse, 0)
                let k = BlockMetrics.bandwidths.map { exp(-100 / $0) }.reduce(0, +)
                XCTAssertEqual(ws.mmd(pred: [pa.baseAddress!], truth: [pb.baseAddress!]), 2 * (10 - k), accuracy: 1e-9)
            }
        }
        XCTAssertEqual(BlockMetrics.bandwidths.first, 31.25)
        XCTAssertEqual(BlockMetrics.bandwidths.last, 16000)
    }

    func testWelchTConventionsForZeroVariance() {
        let g = DEGenes.GroupStats(mean: [0, 1, 2, 5], variance: [0, 0, 1, 0], count: 3)
        let c = DEGenes.GroupStats(mean: [0, 0, 1, 5], variance: [0, 0, 1, 0], count: 4)
        let t = DEGenes.welchT(g, c)
        XCTAssertEqual(t[0], 0); XCTAssertEqual(t[1], Double.infinity); XCTAssertEqual(t[3], 0)
        XCTAssertEqual(t[2], 1 / (1.0 / 3 + 1.0 / 4).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(DEGenes.top([1, -3, 3, 0.5], n: 3), [1, 2, 0])
    }

    /// The baselines end to end: train on the fixture (B's val cells joining the training set so that A+B is
    /// an unseen double of seen singles), predict control cells + delta, score; additive must beat control there.
    func testBaselinePredictionsScoreEndToEnd() throws {
        let tmp = TestSupport.tempDir("pv-score")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let a = try NPYArray(path: expr)
        let (rows, cols, values) = try a.matrix()
        var sp = try SplitTable(path: split)
        for i in 0..<sp.count where sp.sets[i] == "val" { sp.sets[i] = "train" }
        let genes = (0..<cols).map { "G\($0)" }
        let controls = (0..<rows).filter { sp.conditions[$0] == "ctrl" && sp.sets[$0] == "train" }
        var specs: [String] = []
        for kind in [ModelKind.control, .mean, .additive] {
            let m = try Baselines.train(kind: kind, expr: values, rows: rows, cols: cols, split: sp, genes: genes)
            var out: [Float] = [], tsv = "row\tcondition\tcontrol_barcode\n", r = 0
            for cond in ["A", "B", "A+B"] {
                let d = try Baselines.delta(model: m, condition: cond)
                for k in 0..<24 {
                    let c = controls[k % controls.count]
                    out += (0..<cols).map { values[c * cols + $0] + d[$0] }
                    tsv += "\(r)\t\(cond)\t\(sp.barcodes[c])\n"; r += 1
                }
            }
            let d = tmp.appendingPathComponent(kind.rawValue)
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try writeNPY(d.appendingPathComponent("pred.npy").path, out, shape: [r, cols])
            try tsv.write(to: d.appendingPathComponent("pred.tsv"), atomically: true, encoding: .utf8)
            specs += ["--pred", "\(kind)=\(d.path)/pred.npy"]
        }
        let res = try TestSupport.run("pv-score", specs + ["--out", "-", expr, split])
        XCTAssertEqual(res.status, 0, res.stderr)
        let t = try TSVTable(path: writeTemp(res.stdout))
        let pc = try t.column("pearson_delta"), pr = try t.column("prediction"), cc = try t.column("condition")
        func value(_ p: String, _ c: String) -> Double { Double(t.rows.first { $0[pr] == p && $0[cc] == c }![pc])! }
        XCTAssertEqual(t.rows.filter { $0[pr] != Scorer.ceiling }.count, 9)
        XCTAssertLessThan(value("control", "A+B"), 0.5)
        XCTAssertGreaterThan(value("additive", "A+B"), 0.8)
        XCTAssertGreaterThan(value("additive", "A+B"), value("mean", "A+B"))
    }

    /// Replicates (mean ± sd), the ceiling (recomputed from its seeded half split), the calibrated scores against the
    /// numpy "no change" values, and the paired comparison against the numpy win rates and mean differences.
    func testReplicatesCeilingCalibrationAndPairedComparison() throws {
        let tmp = TestSupport.tempDir("pv-score")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let out = tmp.appendingPathComponent("s.tsv").path, json = tmp.appendingPathComponent("s.json").path
        let r = try TestSupport.run("pv-score", ["--pred", pred("good"), "--pred", pred("good"), "--pred", pred("ctrl"),
                                                 "--reference", "ctrl", "--l2-genes", "10", "--out", out, "--json", json, expr, split])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("good (2 reps)") && r.stdout.contains("±0.0000"), r.stdout)
        XCTAssertTrue(r.stdout.contains("paired comparison with ctrl"), r.stdout)
        let t = try TSVTable(path: out)
        let pc = try t.column("prediction"), rc = try t.column("replicate"), cc = try t.column("condition")
        let mc = try t.column("mse"), nc = try t.column("n_cells")
        let good1 = t.rows.filter { $0[pc] == "good" && $0[rc] == "1" }, good2 = t.rows.filter { $0[pc] == "good" && $0[rc] == "2" }
        XCTAssertEqual(good1.count, 3); XCTAssertEqual(good1.map { Array($0[5...]) }, good2.map { Array($0[5...]) })

        // The ceiling: the seeded half split of each condition's test cells, recomputed here.
        let (_, cols, x) = try NPYArray(path: expr).matrix()
        let sp = try SplitTable(path: split)
        var ceilingMSE: [String: Double] = [:]
        for cond in ["A", "B", "A+B"] {
            var rowsC = sp.rows(set: "test", condition: cond)
            var rng = RNG(seed: 0, stream: PredictionPlan.stream(of: cond))
            rng.shuffle(&rowsC)
            let h = rowsC.count / 2
            var a = [Double](repeating: 0, count: cols), b = a
            for r in rowsC[..<h] { for g in 0..<cols { a[g] += Double(x[r * cols + g]) / Double(h) } }
            for r in rowsC[h...] { for g in 0..<cols { b[g] += Double(x[r * cols + g]) / Double(rowsC.count - h) } }
            ceilingMSE[cond] = (0..<cols).map { (a[$0] - b[$0]) * (a[$0] - b[$0]) }.reduce(0, +) / Double(cols)
            let row = t.rows.first { $0[pc] == Scorer.ceiling && $0[cc] == cond }!
            XCTAssertEqual(Double(row[mc])!, ceilingMSE[cond]!, accuracy: 1e-9 * max(1, ceilingMSE[cond]!))
            XCTAssertEqual(Int(row[nc]), rowsC.count - h)
        }

        // Calibrated mse of good over all conditions: (m − m_nochange) / (m_ceiling − m_nochange), group means.
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let preds = doc["predictions"] as! [[String: Any]]
        let good = preds.first { $0["name"] as? String == "good" }!
        XCTAssertEqual(good["replicates"] as? Int, 2)
        let all = (good["groups"] as! [String: Any])["all"] as! [String: Any]
        let noChange = try rows(dir + "/expected_nochange.tsv", keys: 1)
        let expected = try rows(dir + "/expected.tsv", keys: 2)
        let conds = ["A", "B", "A+B"]
        func mean(_ f: (String) -> Double) -> Double { conds.map(f).reduce(0, +) / 3 }
        let m = mean { Double(expected.rows["good|\($0)"]![9])! }
        let z = mean { Double(noChange.rows[$0]![1])! }
        let one = mean { ceilingMSE[$0]! }
        XCTAssertEqual(expected.header[9], "mse")
        XCTAssertEqual((all["calibrated"] as! [String: Any])["mse"] as! Double, (m - z) / (one - z), accuracy: 1e-6)

        // Paired comparison with the reference ctrl.
        XCTAssertEqual(doc["reference"] as? String, "ctrl")
        let paired = doc["paired"] as! [[String: Any]]
        let want = try TSVTable(path: dir + "/expected_paired.tsv")
        XCTAssertEqual(paired.count, want.rows.count)
        for w in want.rows {
            guard let p = paired.first(where: { $0["prediction"] as? String == w[0] && $0["group"] as? String == w[1] && $0["metric"] as? String == w[2] }) else {
                XCTFail("no paired row \(w)"); continue
            }
            XCTAssertEqual("\(p["n_conditions"]!)", w[3])
            assertClose("\(p["win_rate"]!)", w[4], "\(w[1]) \(w[2]) win rate")
            assertClose("\(p["mean_difference"]!)", w[5], "\(w[1]) \(w[2]) mean difference")
            let ci = p["ci95"] as! [Double], d = p["mean_difference"] as! Double
            XCTAssertTrue(ci[0] <= d + 1e-12 && d <= ci[1] + 1e-12, "\(w) \(ci)")
        }
        // Same seed, same intervals; the reference and the ceiling's name are checked.
        let again = try TestSupport.run("pv-score", ["--pred", pred("good"), "--pred", pred("good"), "--pred", pred("ctrl"),
                                                     "--reference", "ctrl", "--l2-genes", "10", expr, split])
        XCTAssertEqual(again.stdout, r.stdout)
        let bad = try TestSupport.run("pv-score", ["--pred", pred("good"), "--reference", "nope", expr, split])
        XCTAssertEqual(bad.status, 64); XCTAssertTrue(bad.stderr.hasPrefix("pv-score: --reference nope"), bad.stderr)
        let ceil = try TestSupport.run("pv-score", ["--pred", "ceiling=\(dir)/good/pred.npy", expr, split])
        XCTAssertEqual(ceil.status, 64)
    }

    /// interaction_r2 > 0 exactly when the prediction's squared error is below the additive reference's (a hand
    /// example: r = μ − a = (−0.5, 1, 0), r̂ − r = μ̂ − μ = (0.2, −0.2, 0.1) → 1 − 0.09 / 1.25).
    func testInteractionIdentityOnAHandExample() {
        let mu = [1.0, 2.0, 0.5], a = [1.5, 1.0, 0.5]
        XCTAssertEqual(Score.interaction(muHat: [1.2, 1.8, 0.6], mu: mu, additive: a).r2, 1 - 0.09 / 1.25, accuracy: 1e-12)
        for muHat in [[1.2, 1.8, 0.6], [2.0, 0.5, 0.0], a, [1.4, 1.2, 0.5]] {
            let r2 = Score.interaction(muHat: muHat, mu: mu, additive: a).r2
            let sse = zip(muHat, mu).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            let sseA = zip(a, mu).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            XCTAssertEqual(r2 > 0, sse < sseA, "\(muHat)")
        }
        XCTAssertTrue(Score.interaction(muHat: a, mu: mu, additive: a).pearson.isNaN, "additive itself: r̂ = 0, undefined")
    }

    /// pds: own true change nearest → 1; two of three nearer → 1/3; the gene named like the condition is ignored.
    func testDiscriminationScoreRanksByL1() {
        let truth = [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]
        XCTAssertEqual(Score.discrimination(predicted: truth, truth: truth, excluded: [nil, nil, nil]), [1, 1, 1])
        let pred = [[0, 0.9, 0.0], [0, 1.0, 0], [0, 0, 1.0]]
        XCTAssertEqual(Score.discrimination(predicted: pred, truth: truth, excluded: [nil, nil, nil])[0], 1 - 1.0 / 3, accuracy: 1e-12)
        // Gene 1 excluded for condition 0: distances over genes 0 and 2 put truth 1 (0, ·, 0) first.
        XCTAssertEqual(Score.discrimination(predicted: [[0.2, 5, 0], [0, 1, 0], [0, 0, 1]], truth: truth, excluded: [1, nil, nil])[0],
                       1 - 1.0 / 3, accuracy: 1e-12)
    }

    /// --control-set test: c is the mean of the test set's control cells (recomputed here).
    func testControlSetTestUsesTheTestControls() throws {
        let r = try TestSupport.run("pv-score", ["--pred", pred("means"), "--control-set", "test", "--out", "-", expr, split])
        XCTAssertEqual(r.status, 0, r.stderr)
        let t = try TSVTable(path: writeTemp(r.stdout))
        let (_, cols, x) = try NPYArray(path: expr).matrix()
        let sp = try SplitTable(path: split)
        let ctl = sp.rows(set: "test", condition: "ctrl"), truth = sp.rows(set: "test", condition: "A")
        func mean(_ rows: [Int]) -> [Double] { (0..<cols).map { g in rows.map { Double(x[$0 * cols + g]) }.reduce(0, +) / Double(rows.count) } }
        let c = mean(ctl), mu = mean(truth)
        let m = try NPYArray(path: dir + "/means/means.npy").matrix()
        let muHat = (0..<cols).map { Double(m.values[2 * cols + $0]) }   // means.tsv row 2 is A
        let want = Score.pearson((0..<cols).map { muHat[$0] - c[$0] }, (0..<cols).map { mu[$0] - c[$0] })
        let row = t.rows.first { $0[try! t.column("prediction")] == "means" && $0[try! t.column("condition")] == "A" }!
        XCTAssertEqual(Double(row[try t.column("pearson_delta")])!, want, accuracy: 1e-6)
        XCTAssertNotEqual(Double(row[try t.column("pearson_delta")])!, Double(try rows(dir + "/expected.tsv", keys: 2).rows["means|A"]![12])!, accuracy: 1e-6)
    }

    func writeTemp(_ s: String) throws -> String {
        let p = FileManager.default.temporaryDirectory.appendingPathComponent("pv-score-\(UUID().uuidString).tsv").path
        try s.write(toFile: p, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: p) }
        return p
    }
}
