import Foundation
import XCTest
import PVShared

/// pv-score's identifiability mode (`--latents LEARNED --true-latents latents.npy`): known answers (a permuted, scaled,
/// shifted copy of the true latents scores MCC 1 and R² 1; independent noise scores near 0), barcode matching, errors,
/// and the whole chain pv-simulate → pv-train → pv-predict --latents → pv-score.
final class IdentifiabilityReportTests: XCTestCase {
    /// Random true latents [n, dN + dI] and a learned copy: rows in another order, z_resp = the true z_ν permuted,
    /// scaled (some negative) and shifted, plus one pure-noise column; mu_inv = an affine map of z_ι to more columns.
    static func knownCopy(n: Int, dN: Int, dI: Int, seed: UInt64) -> (IdentifiabilityReport.Truth, IdentifiabilityReport.Learned, perm: [Int]) {
        var g = RNG(seed: seed)
        let d = dN + dI
        let values = (0..<(n * d)).map { _ in g.normal() }
        let barcodes = (0..<n).map { "C\($0)" }
        let perm = Array((0..<dN).reversed())                // learned column perm[j] holds true column j
        let order = (0..<n).map { ($0 * 7 + 3) % n }          // learned row k is true row order[k] (n coprime to 7)
        let dL = dN + 1, dLI = dI + 2
        let A = (0..<(dI * dLI)).map { _ in g.normal() }
        var zResp = [Float](repeating: 0, count: n * dL), muInv = [Float](repeating: 0, count: n * dLI)
        for (k, i) in order.enumerated() {
            for j in 0..<dN { zResp[k * dL + perm[j]] = (j % 2 == 0 ? -2.5 : 0.3) * values[i * d + j] + Float(j) }
            zResp[k * dL + dN] = g.normal()
            for q in 0..<dLI {
                var s: Float = 0.5
                for p in 0..<dI { s += values[i * d + dN + p] * A[p * dLI + q] }
                muInv[k * dLI + q] = s
            }
        }
        let truth = IdentifiabilityReport.Truth(barcodes: barcodes, values: values, dN: dN, dI: dI)
        let learned = IdentifiabilityReport.Learned(name: "copy", barcodes: order.map { barcodes[$0] }, muInv: muInv, dI: dLI,
                                                    zResp: zResp, dN: dL)
        return (truth, learned, perm)
    }

    func testPermutedScaledCopyScoresOne() throws {
        let (truth, learned, perm) = Self.knownCopy(n: 301, dN: 4, dI: 3, seed: 11)
        let r = try IdentifiabilityReport(learned: learned, truth: truth)
        XCTAssertEqual(r.cells, 301)
        XCTAssertEqual(r.mcc, 1, accuracy: 1e-5)
        XCTAssertEqual(r.r2Inv, 1, accuracy: 1e-5)
        XCTAssertEqual(r.pairs.map(\.truth), [0, 1, 2, 3])
        XCTAssertEqual(r.pairs.map(\.learned), perm, "the matching finds the permutation, not the noise column")
        XCTAssertEqual([r.trueResp, r.trueInv, r.learnedResp, r.learnedInv], [4, 3, 5, 5])
    }

    /// Learned latents unrelated to the truth: MCC and R² near 0 (300 cells: |corr| of independent columns ~ 0.06).
    func testIndependentLatentsScoreNearZero() throws {
        let (truth, copy, _) = Self.knownCopy(n: 300, dN: 3, dI: 3, seed: 12)
        var learned = copy
        var g = RNG(seed: 99)
        learned.zResp = learned.zResp.map { _ in g.normal() }
        learned.muInv = learned.muInv.map { _ in g.normal() }
        let r = try IdentifiabilityReport(learned: learned, truth: truth)
        XCTAssertLessThan(r.mcc, 0.2)
        XCTAssertLessThan(r.r2Inv, 0.1)
        // Half of the truth's z_ι (one of three components) recoverable: R² 1/3.
        var half = learned
        let rows = Dictionary(uniqueKeysWithValues: truth.barcodes.enumerated().map { ($1, $0) })
        for (k, b) in half.barcodes.enumerated() { half.muInv[k * half.dI] = truth.values[rows[b]! * 6 + 3] }
        let h = try IdentifiabilityReport(learned: half, truth: truth)
        XCTAssertEqual(h.r2Inv, 1.0 / 3, accuracy: 0.05)
    }

    func testLearnedCellMissingFromTruthIsAnError() throws {
        var (truth, learned, _) = Self.knownCopy(n: 50, dN: 2, dI: 2, seed: 13)
        truth.barcodes[7] = "OTHER"
        XCTAssertThrowsError(try IdentifiabilityReport(learned: learned, truth: truth)) { e in
            guard case PVError.badInput(_, _, _, let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("C7 is not among the true latents' barcodes"), m)
        }
    }

    /// A tiny simulated screen with its true latents.
    private func screen(_ d: URL) throws {
        let r = try TestSupport.run("pv-simulate", ["--quiet", "--cells-per-condition", "30", "--genes", "40", "--targets", "4",
                                                    "--doubles", "2", "--latent-inv", "3", "--latent-resp", "4", "--seed", "2",
                                                    "--out", d.path + "/screen"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// End to end through the tool: a learned-latents TSV written from the true latents (rows shuffled, columns
    /// permuted and scaled, mu_inv an affine map) scores 1 and 1; barcodes default to barcodes.tsv beside
    /// latents.npy, d_ν to truth.npz's noise_sd; cells.tsv (with its '# run' line) gives the same.
    func testToolScoresKnownCopy() throws {
        let d = TestSupport.tempDir("ident")
        try screen(d)
        let (shape, z) = try readNPYFloats(d.path + "/screen/latents.npy")
        XCTAssertEqual(shape, [7 * 30, 7], "ctrl, 4 singles, 2 doubles")
        let bcs = try readBarcodes(d.path + "/screen/barcodes.tsv")
        var text = "# a provenance line\nbarcode\tcondition\tset" + (1...4).map { "\tmu_inv_\($0)" }.joined()
            + (1...4).map { "\tz_resp_\($0)" }.joined() + "\n"
        for i in stride(from: bcs.count - 1, through: 0, by: -2) {      // every other cell, reversed
            let zn = (0..<4).map { z[i * 7 + $0] }, zi = (0..<3).map { z[i * 7 + 4 + $0] }
            let mu = [zi[0] + zi[1], 2 * zi[1] - 1, zi[2], zi[0] - zi[2]]
            let resp = [-3 * zn[2], zn[0] + 5, 0.5 * zn[3], 2 * zn[1]]
            text += "\(bcs[i])\tX\ttrain\t" + (mu + resp).map { String($0) }.joined(separator: "\t") + "\n"
        }
        let lat = d.path + "/learned.tsv"
        try text.write(toFile: lat, atomically: true, encoding: .utf8)
        let j = d.path + "/ident.json"
        let r = try TestSupport.run("pv-score", ["--latents", lat, "--true-latents", d.path + "/screen/latents.npy", "--json", j])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertTrue(lines.count >= 2 && lines[0].hasPrefix("latents") && lines[1].hasPrefix(lat), r.stdout)
        XCTAssertEqual(Array(lines[1].split(separator: " ").suffix(2)), ["1.0000", "1.0000"], r.stdout)
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: j))) as! [String: Any]
        XCTAssertEqual(doc["n_cells"] as? Int, 105)
        XCTAssertEqual(doc["true_resp"] as? Int, 4)
        XCTAssertEqual(doc["true_inv"] as? Int, 3)
        XCTAssertEqual(doc["mcc_resp"] as! Double, 1, accuracy: 1e-5)
        XCTAssertEqual(doc["r2_inv"] as! Double, 1, accuracy: 1e-5)
        let pairs = (doc["pairs"] as! [[String: Any]]).map { [$0["true"] as! Int, $0["learned"] as! Int] }
        XCTAssertEqual(pairs, [[0, 1], [1, 3], [2, 0], [3, 2]])
        let c = try TestSupport.run("pv-score", ["--latents", lat, "--true-latents", d.path + "/screen/latents.npy",
                                                 "--true-cells", d.path + "/screen/cells.tsv", "--true-resp", "4"])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertEqual(c.stdout, r.stdout)
        // Wrong split of the columns: 3 response components leave z_nu's 4th among the background ones.
        let w = try TestSupport.run("pv-score", ["--latents", lat, "--true-latents", d.path + "/screen/latents.npy", "--true-resp", "3"])
        XCTAssertEqual(w.status, 0, w.stderr)
        let wLine = w.stdout.split(separator: "\n")[1].split(separator: " ")
        XCTAssertEqual(wLine.suffix(2).first, "1.0000", "z_nu's first 3 components still match exactly")
        XCTAssertLessThan(Double(wLine.last!)!, 0.99, "z_nu's 4th, now a background target, is not an affine map of mu_inv")
    }

    func testToolErrors() throws {
        let d = TestSupport.tempDir("ident")
        try screen(d)
        let t = d.path + "/screen/latents.npy"
        let missing = try TestSupport.run("pv-score", ["--latents", d.path + "/nope.tsv", "--true-latents", t])
        XCTAssertEqual(missing.status, 66)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        XCTAssertTrue(missing.stderr.hasPrefix("pv-score: "), missing.stderr)
        let onlyOne = try TestSupport.run("pv-score", ["--true-latents", t])
        XCTAssertEqual(onlyOne.status, 64)
        XCTAssertEqual(onlyOne.stderr, "pv-score: --true-latents needs --latents (pv-predict --latents output)\n")
        let other = d.path + "/other.tsv"
        try "barcode\tcondition\tset\tmu_inv_1\tz_resp_1\nAAAA-1\tX\ttrain\t1\t2\nBBBB-1\tX\ttrain\t1\t3\nCCCC-1\tX\ttrain\t2\t2\n"
            .write(toFile: other, atomically: true, encoding: .utf8)
        let j = d.path + "/x.json"
        let bad = try TestSupport.run("pv-score", ["--latents", other, "--true-latents", t, "--json", j])
        XCTAssertEqual(bad.status, 65)
        XCTAssertEqual(bad.stderr, "pv-score: \(other): cell AAAA-1 is not among the true latents' barcodes: latents of another screen?\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: j), "no half-written output")
        let mixed = try TestSupport.run("pv-score", ["--latents", other, "--true-latents", t, "--pred", "a=p/pred.npy"])
        XCTAssertEqual(mixed.status, 64)
        XCTAssertTrue(mixed.stderr.hasPrefix("pv-score: "), mixed.stderr)
    }

    /// The chain on a small screen: pv-predict --latents writes every cell of the split; pv-score matches them all
    /// against latents.npy and reports numbers in range for the model's sizes.
    func testPipeline() throws {
        let d = TestSupport.tempDir("ident")
        try screen(d)
        let p = d.path
        for (tool, args) in [
            ("pv-normalize", ["--labels", p + "/screen/cells.tsv", "--out", p + "/norm", p + "/screen"]),
            ("pv-split", ["--out", p + "/split.tsv", p + "/norm/obs.tsv"]),
            ("pv-train", ["--hidden", "16", "--latent-inv", "5", "--latent-resp", "4", "--batch", "32", "--steps", "150",
                          "--threads", "1", "--out", p + "/m.npz", p + "/norm/expr.npy", p + "/split.tsv"]),
            ("pv-predict", ["--latents", p + "/lat.tsv", "--conditions", "T01", "--out", p + "/pred", p + "/m.npz",
                            p + "/norm/expr.npy", p + "/split.tsv"]),
            ("pv-score", ["--latents", p + "/lat.tsv", "--true-latents", p + "/screen/latents.npy", "--json", p + "/i.json"]),
        ] {
            let r = try TestSupport.run(tool, ["--quiet"] + args)
            XCTAssertEqual(r.status, 0, "\(tool): \(r.stderr)")
        }
        let lat = try TSVTable(path: p + "/lat.tsv")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p + "/i.json"))) as! [String: Any]
        XCTAssertEqual(doc["n_cells"] as? Int, lat.rows.count)
        XCTAssertEqual(doc["learned_inv"] as? Int, 5)
        XCTAssertEqual(doc["learned_resp"] as? Int, 4)
        let mcc = doc["mcc_resp"] as! Double, r2 = doc["r2_inv"] as! Double
        XCTAssertTrue(mcc > 0 && mcc <= 1, "\(mcc)")
        XCTAssertTrue(r2 >= 0 && r2 <= 1, "\(r2)")
        // The same numbers from the library on the same files.
        let again = try IdentifiabilityReport(learned: .init(path: p + "/lat.tsv"),
                                              truth: .init(latents: p + "/screen/latents.npy", barcodes: p + "/screen/barcodes.tsv", resp: nil))
        XCTAssertEqual(again.mcc, mcc, accuracy: 1e-12)
        XCTAssertEqual(again.r2Inv, r2, accuracy: 1e-12)
    }
}
