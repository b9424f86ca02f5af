import XCTest
import PVShared

/// pv-simulate: exact counts, statistics, determinism, truth consistency, bad options.
final class SimulateTests: XCTestCase {
    struct Matrix { var genes: Int; var cells: Int; var entries: [(g: Int, c: Int, v: Int)]; var header: String }

    static func readMatrix(_ path: String) throws -> Matrix {
        let r = try LineReader(path: path)
        guard let h = try r.nextString() else { throw XCTSkip("empty matrix") }
        var dims: [Int] = []
        var entries: [(g: Int, c: Int, v: Int)] = []
        while let l = try r.nextString() {
            if l.hasPrefix("%") { continue }
            let f = l.split(separator: " ").compactMap { Int($0) }
            if dims.isEmpty { dims = f; continue }
            entries.append((f[0], f[1], f[2]))
        }
        XCTAssertEqual(dims.count, 3)
        XCTAssertEqual(dims[2], entries.count, "declared nonzero count")
        return Matrix(genes: dims[0], cells: dims[1], entries: entries, header: h)
    }

    /// The lines of a file but its `#` comments (cells.tsv's run id).
    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .filter { !$0.hasPrefix("#") }.map(String.init)
    }

    static func simulate(_ args: [String]) throws -> URL {
        let d = TestSupport.tempDir("sim")
        let r = try TestSupport.run("pv-simulate", args + ["--out", d.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return d
    }

    func testLayoutCountsAndStatistics() throws {
        let d = try Self.simulate(["--cells-per-condition", "40", "--genes", "200", "--targets", "6", "--doubles", "4",
                                   "--library-size", "500", "--seed", "3", "--quiet"])
        let m = try Self.readMatrix(d.path + "/matrix.mtx.gz")
        XCTAssertEqual(m.header, "%%MatrixMarket matrix coordinate integer general")
        XCTAssertEqual(m.genes, 200)
        XCTAssertEqual(m.cells, 11 * 40)
        let features = try Self.lines(d.path + "/features.tsv")
        XCTAssertEqual(features.count, 200)
        XCTAssertEqual(features[0], "G0001\tG0001\tGene Expression")
        let barcodes = try Self.lines(d.path + "/barcodes.tsv")
        XCTAssertEqual(Set(barcodes).count, m.cells, "barcodes unique")
        let cells = try Self.lines(d.path + "/cells.tsv").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(cells.map { $0[0] }, barcodes, "cells.tsv follows matrix column order")
        var perCond: [String: Int] = [:]
        for c in cells { XCTAssertEqual(c.count, 2); perCond[c[1], default: 0] += 1 }
        XCTAssertEqual(perCond.count, 11)
        XCTAssertTrue(perCond.values.allSatisfy { $0 == 40 }, "\(perCond)")
        XCTAssertEqual(perCond["ctrl"], 40)
        XCTAssertEqual(perCond.keys.filter { $0.contains("+") }.count, 4)
        XCTAssertEqual(perCond.keys.filter { !$0.contains("+") && $0 != "ctrl" }.sorted(), ["T01", "T02", "T03", "T04", "T05", "T06"])
        // Entries: 1-based, in range, positive, column-major without duplicates.
        var totals = [Int](repeating: 0, count: m.cells)
        var prev = (0, 0)
        for e in m.entries {
            XCTAssertTrue((1...m.genes).contains(e.g) && (1...m.cells).contains(e.c) && e.v > 0)
            XCTAssertTrue((e.c, e.g) > (prev.0, prev.1), "sorted by cell then gene")
            prev = (e.c, e.g)
            totals[e.c - 1] += e.v
        }
        let median = totals.sorted()[m.cells / 2]
        XCTAssertTrue((425...575).contains(median), "median library size \(median) near 500")
        let zeroFrac = 1 - Double(m.entries.count) / Double(m.genes * m.cells)
        XCTAssertTrue(zeroFrac > 0.4 && zeroFrac < 0.95, "sparsity \(zeroFrac)")
        // Overdispersion: variance exceeds the mean for well-expressed genes (negative binomial, not Poisson).
        var sum = [Double](repeating: 0, count: m.genes), sq = sum
        for e in m.entries { sum[e.g - 1] += Double(e.v); sq[e.g - 1] += Double(e.v * e.v) }
        var over = 0, expressed = 0
        for g in 0..<m.genes {
            let mu = sum[g] / Double(m.cells), v = sq[g] / Double(m.cells) - mu * mu
            if mu > 2 { expressed += 1; if v > 1.2 * mu { over += 1 } }
        }
        XCTAssertGreaterThan(expressed, 5)
        XCTAssertGreaterThan(Double(over), 0.8 * Double(expressed))
    }

    func testCellsSpreadsATotal() throws {
        let d = try Self.simulate(["--cells", "100", "--genes", "20", "--targets", "4", "--doubles", "2", "--quiet"])
        let cells = try Self.lines(d.path + "/cells.tsv").map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(cells.count, 100)
        var perCond: [String: Int] = [:]
        for c in cells { perCond[c[1], default: 0] += 1 }
        // 7 conditions: 100 = 7*14 + 2, the first two (ctrl, T01) get 15.
        XCTAssertEqual(perCond["ctrl"], 15)
        XCTAssertEqual(perCond["T01"], 15)
        XCTAssertEqual(perCond["T02"], 14)
        XCTAssertEqual(perCond.values.reduce(0, +), 100)
    }

    func testDeterministicForASeed() throws {
        let args = ["--cells-per-condition", "30", "--genes", "100", "--targets", "5", "--doubles", "3", "--quiet"]
        let a = try Self.simulate(args + ["--seed", "7"])
        let b = try Self.simulate(args + ["--seed", "7", "--threads", "1"])
        let c = try Self.simulate(args + ["--seed", "8"])
        for f in ["matrix.mtx.gz", "barcodes.tsv", "features.tsv", "cells.tsv", "truth.npz", "latents.npy"] {
            let x = try Data(contentsOf: a.appendingPathComponent(f)), y = try Data(contentsOf: b.appendingPathComponent(f))
            XCTAssertEqual(x, y, "\(f) byte-identical for one seed, whatever the thread count")
        }
        for f in ["matrix.mtx.gz", "cells.tsv", "truth.npz"] {
            XCTAssertNotEqual(try Data(contentsOf: a.appendingPathComponent(f)), try Data(contentsOf: c.appendingPathComponent(f)), f)
        }
    }

    func testTruthMatchesTheGeneratingModel() throws {
        let d = try Self.simulate(["--cells-per-condition", "50", "--genes", "120", "--targets", "8", "--doubles", "6",
                                   "--latent-resp", "7", "--latent-inv", "5", "--seed", "11", "--quiet"])
        let npz = try NPZ(path: d.path + "/truth.npz")
        let meta = try JSONSerialization.jsonObject(with: Data(npz.raw("meta.json") ?? [])) as! [String: Any]
        let conds = meta["conditions"] as! [String], targets = meta["targets"] as! [String], genes = meta["genes"] as! [String]
        XCTAssertEqual(conds.count, 15)
        XCTAssertEqual(conds[0], "ctrl")
        XCTAssertEqual(targets.count, 8)
        XCTAssertEqual(genes.count, 120)
        let dN = 7, K = 8, C = 15, G = 120
        let lnn = try npz.array("lambda_nn", file: "truth").floatArray()
        let lni = try npz.array("lambda_ni", file: "truth")
        XCTAssertEqual(lni.shape, [7, 5])
        XCTAssertEqual(try npz.array("lambda_nn", file: "truth").shape, [dN, dN])
        for i in 0..<dN { for j in i..<dN { XCTAssertEqual(lnn[i * dN + j], 0, "Λ_νν strictly lower triangular") } }
        XCTAssertTrue(lnn.contains { $0 != 0 }, "the graph has edges")
        let shift = try npz.array("intervention", file: "truth").floatArray()
        let cut = try npz.array("cut_edges", file: "truth").floatArray()
        let u = try npz.array("condition_u", file: "truth").floatArray()
        let latent = try npz.array("latent_mean", file: "truth").floatArray()
        XCTAssertEqual(try npz.array("expr_mean", file: "truth").shape, [C, G])
        XCTAssertEqual(try npz.array("cells_per_condition", file: "truth").ints(), Array(repeating: 50, count: C))
        for k in 0..<K {
            let nodes = (0..<dN).filter { shift[k * dN + $0] != 0 }
            XCTAssertTrue((1...2).contains(nodes.count), "each target shifts one or two nodes")
            for j in 0..<dN where cut[k * dN + j] != 0 { XCTAssertTrue(nodes.contains(j), "cuts only at shifted nodes") }
        }
        // Independent computation of E[z_ν | u] = (I − Λ(u))⁻¹ μ(u) for every condition.
        func mean(_ ks: [Int]) -> [Double] {
            var z = [Double](repeating: 0, count: dN)
            for i in 0..<dN {
                var s = 0.0
                for k in ks { s += Double(shift[k * dN + i]) }
                let isCut = ks.contains { cut[$0 * dN + i] != 0 }
                if !isCut { for j in 0..<i { s += Double(lnn[i * dN + j]) * z[j] } }
                z[i] = s
            }
            return z
        }
        for c in 0..<C {
            let ks = (0..<K).filter { u[c * K + $0] == 1 }
            XCTAssertEqual(Condition.name(ks.map { targets[$0] }), conds[c], "condition_u row \(c)")
            let z = mean(ks)
            for i in 0..<dN { XCTAssertEqual(Double(latent[c * dN + i]), z[i], accuracy: 1e-4, "latent mean \(conds[c]) node \(i)") }
        }

        // expr_mean_obs is the mean of log1p(count * S / total) over each condition's cells, S from meta.
        let S = meta["normalize_target_sum"] as! Double
        let m = try Self.readMatrix(d.path + "/matrix.mtx.gz")
        let labels = try Self.lines(d.path + "/cells.tsv").map { String($0.split(separator: "\t")[1]) }
        var totals = [Double](repeating: 0, count: m.cells)
        for e in m.entries { totals[e.c - 1] += Double(e.v) }
        var sums = [Double](repeating: 0, count: C * G)
        let idx = Dictionary(uniqueKeysWithValues: conds.enumerated().map { ($1, $0) })
        for e in m.entries { sums[idx[labels[e.c - 1]]! * G + e.g - 1] += Foundation.log1p(Double(e.v) * S / totals[e.c - 1]) }
        let obs = try npz.array("expr_mean_obs", file: "truth").floatArray()
        for i in 0..<(C * G) { XCTAssertEqual(Double(obs[i]), sums[i] / 50, accuracy: 1e-4) }
        // latents.npy: each cell's [z_ν, z_ι] in cells.tsv order. Inverting the SCM of the cell's label,
        // n = (I − Λ_νν(u)) z_ν − Λ_νι(u) z_ι must be N(μ(u), noise_sd²) node by node, and z_ι must be N(0, I):
        // a wrong row order, label or mechanism shifts the standardised residuals by about the effect (3 sds).
        let lat = try NPYArray(path: d.path + "/latents.npy")
        XCTAssertEqual(lat.shape, [m.cells, dN + 5])
        let z = try lat.floats(), lniF = lni.floatArray(), sd = try npz.array("noise_sd", file: "truth").floatArray()
        var resSum = [Double](repeating: 0, count: dN), resSq = resSum, inSum = [Double](repeating: 0, count: 5), inSq = inSum
        for i in 0..<m.cells {
            let row = Array(z[(i * (dN + 5))..<((i + 1) * (dN + 5))])
            let ks = (0..<K).filter { u[idx[labels[i]]! * K + $0] == 1 }
            for j in 0..<dN {
                let isCut = ks.contains { cut[$0 * dN + j] != 0 }
                var n = Double(row[j])
                for k in ks { n -= Double(shift[k * dN + j]) }
                if !isCut {
                    for q in 0..<j { n -= Double(lnn[j * dN + q] * row[q]) }
                    for q in 0..<5 { n -= Double(lniF[j * 5 + q] * row[dN + q]) }
                }
                let r = n / Double(sd[j])
                resSum[j] += r; resSq[j] += r * r
            }
            for q in 0..<5 { inSum[q] += Double(row[dN + q]); inSq[q] += Double(row[dN + q] * row[dN + q]) }
        }
        let nc = Double(m.cells)
        for j in 0..<dN {
            XCTAssertEqual(resSum[j] / nc, 0, accuracy: 0.15, "node \(j) residual mean")
            XCTAssertEqual(resSq[j] / nc, 1, accuracy: 0.2, "node \(j) residual variance")
        }
        for q in 0..<5 {
            XCTAssertEqual(inSum[q] / nc, 0, accuracy: 0.15, "z_iota \(q) mean")
            XCTAssertEqual(inSq[q] / nc, 1, accuracy: 0.2, "z_iota \(q) variance")
        }
        // Doubles are not additive in expression: the true double mean differs from ctrl + the two single deltas.
        let E = try npz.array("expr_mean", file: "truth").floatArray()
        for c in 0..<C {
            let ks = (0..<K).filter { u[c * K + $0] == 1 }
            guard ks.count == 2 else { continue }
            let a = 1 + ks[0], b = 1 + ks[1]
            var dev = 0.0, eff = 0.0
            for g in 0..<G {
                dev += abs(Double(E[c * G + g] - (E[a * G + g] + E[b * G + g] - E[g])))
                eff += abs(Double(E[c * G + g] - E[g]))
            }
            XCTAssertGreaterThan(dev, 0.05 * eff, "\(conds[c]) deviates from additive")
            XCTAssertGreaterThan(eff / Double(G), 0.01, "\(conds[c]) has an effect")
        }
    }

    /// A chain 0 -> 1 -> 2: target 0 shifts node 0, target 1 shifts node 2 and cuts its incoming edge. The double's
    /// latent mean is not the sum of the singles' (the cut blocks what target 0 propagates to node 2).
    func testLatentMeanOfACutChain() {
        var p = SimParams()
        p.latentResp = 3; p.latentInv = 2; p.targets = 2; p.doubles = 1; p.genes = 5
        var m = SimModel(p)
        m.lambdaNN = [0, 0, 0, 0.5, 0, 0, 0, 0.5, 0]
        m.intervention = [2, 0, 0, 0, 0, 1]
        m.cutEdges = [0, 0, 0, 0, 0, 1]
        XCTAssertEqual(m.latentMean([]), [0, 0, 0])
        XCTAssertEqual(m.latentMean([0]), [2, 1, 0.5])
        XCTAssertEqual(m.latentMean([1]), [0, 0, 1])
        XCTAssertEqual(m.latentMean([0, 1]), [2, 1, 1])
        let mech = m.mechanism([1])
        XCTAssertEqual(mech.lnn, [0, 0, 0, 0.5, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(mech.lni[4...5]), [0, 0], "background inputs of the cut node removed")
        XCTAssertEqual(Array(mech.lni[0...3]), Array(m.lambdaNI[0...3]))
        XCTAssertEqual(m.conditions, ["ctrl", "T01", "T02", "T01+T02"])
    }

    func testBadOptionsLeaveNothing() throws {
        let d = TestSupport.tempDir("simbad")
        let out = d.appendingPathComponent("screen").path
        var r = try TestSupport.run("pv-simulate", ["--targets", "3", "--doubles", "4", "--out", out])
        XCTAssertEqual(r.status, 64)
        XCTAssertEqual(r.stderr, "pv-simulate: --doubles 4 exceeds the 3 pairs of 3 targets\n")
        r = try TestSupport.run("pv-simulate", ["--cells", "100", "--cells-per-condition", "5", "--out", out])
        XCTAssertEqual(r.status, 64)
        XCTAssertEqual(r.stderr, "pv-simulate: give --cells (total) or --cells-per-condition, not both\n")
        r = try TestSupport.run("pv-simulate", ["--genes", "10"])
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.contains("--out is required"), r.stderr)
        r = try TestSupport.run("pv-simulate", ["--effect", "-1", "--out", out])
        XCTAssertEqual(r.status, 64)
        XCTAssertEqual(TestSupport.files(in: d), [], "nothing written")
        // An output folder that cannot be created: I/O error, no files.
        let file = d.appendingPathComponent("plain").path
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        r = try TestSupport.run("pv-simulate", ["--genes", "10", "--targets", "2", "--doubles", "1", "--out", file + "/sub"])
        XCTAssertEqual(r.status, 74, r.stderr)
        XCTAssertEqual(TestSupport.files(in: d), ["plain"])
    }
}
