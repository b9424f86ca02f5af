import XCTest
import PVShared

/// The shared Norman 2019 subset end to end through training and prediction. pv-normalize and pv-split live on
/// other branches, so this test normalises (log1p of counts per 10,000) and splits (singles 80/20 train/val,
/// doubles with both genes seen as test) itself; the lead's pipeline test covers the real tools.
final class ModelNormanTests: XCTestCase {
    func testNormanSubsetTrainsAndPredictsEndToEnd() throws {
        guard let d = TestSupport.normanDir else { throw XCTSkip("Norman subset not found (../shared/data/norman2019-subset)") }
        let genes = try readFeatures(d + "/features.tsv").map { $0.symbol }
        let barcodes = try readBarcodes(d + "/barcodes.tsv")
        let labels = try TSVTable(path: d + "/cells.tsv", hasHeader: false)
        var labelOf: [String: String] = [:]
        for r in labels.rows { labelOf[r[0]] = r[1] }
        let G = genes.count, N = barcodes.count
        var x = [Float](repeating: 0, count: N * G)
        let mtx = try LineReader(path: d + "/matrix.mtx.gz")
        var header = true
        while let line = try mtx.nextString() {
            if line.hasPrefix("%") { continue }
            let f = line.split(separator: " ")
            if header { header = false; XCTAssertEqual(Int(f[0]), G); XCTAssertEqual(Int(f[1]), N); continue }
            x[(Int(f[1])! - 1) * G + Int(f[0])! - 1] = Float(f[2])!
        }
        for c in 0..<N {
            let tot = (0..<G).reduce(Float(0)) { $0 + x[c * G + $1] }
            for g in 0..<G { x[c * G + g] = log1p(x[c * G + g] / max(tot, 1) * 1e4) }
        }
        let syntax = LabelSyntax()
        let conds = barcodes.map { syntax.canonical(labelOf[$0] ?? "ctrl") }
        let singles = Set(conds.filter { Condition.genes($0).count == 1 })
        var sets: [String] = [], groups: [String] = []
        for (i, c) in conds.enumerated() {
            let g = Condition.genes(c)
            if g.isEmpty { sets.append(i % 10 < 7 ? "train" : i % 10 < 8 ? "val" : "test"); groups.append("ctrl") }
            else if g.count == 1 { sets.append(i % 5 < 4 ? "train" : "val"); groups.append("single") }
            else if g.allSatisfy({ singles.contains($0) }) { sets.append("test"); groups.append("seen2") }
            else { sets.append(""); groups.append("unseen") }
        }
        let dir = TestSupport.tempDir("pv-norman")
        let expr = dir.appendingPathComponent("expr.npy").path, split = dir.appendingPathComponent("split.tsv").path
        try writeNPY(expr, x, shape: [N, G])
        try SplitTable(barcodes: barcodes, labels: conds, conditions: conds, sets: sets, groups: groups).write(split)
        let model = dir.appendingPathComponent("model.npz").path
        let t = try TestSupport.run("pv-train", ["--epochs", "3", "--hidden", "64", "--latent-inv", "16", "--lr", "1e-3",
                                                 "--threads", "2", "--out", model, expr, split])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stderr.contains("--latent-resp lowered from 20 to 9"), t.stderr)
        XCTAssertTrue(t.stderr.contains("optimiser steps"), t.stderr)
        let out = dir.appendingPathComponent("pred")
        let p = try TestSupport.run("pv-predict", ["--predict", "delta", "--out", out.path, model, expr, split])
        XCTAssertEqual(p.status, 0, p.stderr)
        let (shape, vals) = try readNPYFloats(out.appendingPathComponent("pred.npy").path)
        let testDoubles = Set(conds.indices.filter { sets[$0] == "test" && groups[$0] == "seen2" }.map { conds[$0] })
        XCTAssertEqual(testDoubles.count, 5)
        XCTAssertEqual(shape, [conds.indices.filter { sets[$0] == "test" && conds[$0] != "ctrl" }.count, G])
        XCTAssertTrue(vals.allSatisfy { $0.isFinite })
    }
}
