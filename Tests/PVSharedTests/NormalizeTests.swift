import XCTest
import PVShared

/// pv-normalize against scanpy 1.11: the committed norm_small fixture (Tests/reference/make_normalize_fixture.py)
/// and the real Norman 2019 subset with its scanpy reference.
final class NormalizeTests: XCTestCase {
    static let tol = 1e-5

    func close(_ a: Double, _ b: Double, rel: Double = NormalizeTests.tol) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        return Swift.abs(a - b) <= rel * Swift.abs(b) + 1e-12
    }

    func runNormalize(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        let out = TestSupport.tempDir("norm")
        let r = try TestSupport.run("pv-normalize", ["--quiet", "--out", out.path] + args)
        XCTAssertEqual(r.status, 0, "pv-normalize \(args) failed: \(r.stderr)", file: file, line: line)
        return out
    }

    func compareExpr(_ got: String, _ want: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fa = try NPYArray(path: got), fb = try NPYArray(path: want)
        defer { withExtendedLifetime(fa) {}; withExtendedLifetime(fb) {} }
        let a = try fa.matrix(), b = try fb.matrix()
        XCTAssertEqual(a.rows, b.rows, "rows", file: file, line: line)
        XCTAssertEqual(a.cols, b.cols, "cols", file: file, line: line)
        guard a.rows == b.rows && a.cols == b.cols else { return }
        var bad = 0, worst = 0.0
        for i in 0..<b.values.count {
            let x = Double(a.values[i]), y = Double(b.values[i])
            let err = Swift.abs(x - y) / max(Swift.abs(y), 1e-30)
            if !(Swift.abs(x - y) <= NormalizeTests.tol * Swift.abs(y)) { bad += 1; worst = max(worst, err) }
        }
        XCTAssertEqual(bad, 0, "\(bad) values differ by more than 1e-5 relative (worst \(worst))", file: file, line: line)
    }

    // MARK: norm_small fixture

    func fixtureCases() throws -> [(String, [String])] {
        let t = try TSVTable(path: TestSupport.fixture("norm_small/cases.tsv"))
        return t.rows.map { r in
            let args = r[1].split(separator: " ").map { a -> String in
                a.hasSuffix(".tsv") ? TestSupport.fixture("norm_small/" + a) : String(a)
            }
            return (r[0], args)
        }
    }

    func testFixtureCasesMatchScanpy() throws {
        let dir = TestSupport.fixture("norm_small")
        let cases = try fixtureCases()
        XCTAssertGreaterThanOrEqual(cases.count, 7)
        for (name, args) in cases {
            let out = try runNormalize(args + [dir])
            try compareExpr(out.appendingPathComponent("expr.npy").path, "\(dir)/expected/\(name)_expr.npy")
            let want = try TSVTable(path: "\(dir)/expected/\(name)_genes.tsv")
            let got = try TSVTable(path: out.appendingPathComponent("genes.tsv").path)
            let wid = try want.values("gene_id"), inExpr = try want.values("in_expr").map { $0 == "True" }
            let gid = try got.values("gene_id")
            XCTAssertEqual(gid, zip(wid, inExpr).filter { $0.1 }.map { $0.0 }, "\(name): kept genes")
            let wHV = Set(zip(wid, try want.values("highly_variable")).filter { $0.1 == "True" }.map { $0.0 })
            let gHV = Set(zip(gid, try got.values("highly_variable")).filter { $0.1 == "True" }.map { $0.0 })
            XCTAssertEqual(gHV, wHV, "\(name): highly variable genes")
            var row: [String: Int] = [:]
            for (i, g) in wid.enumerated() { row[g] = i }
            let wm = try want.values("means"), wd = try want.values("dispersions"), wn = try want.values("dispersions_norm")
            let gm = try got.values("mean"), gd = try got.values("dispersion"), gn = try got.values("dispersion_norm")
            for (i, g) in gid.enumerated() {
                guard let j = row[g] else { XCTFail("\(name): gene \(g) not analysed by scanpy"); continue }
                XCTAssertTrue(close(Double(gm[i])!, Double(wm[j])!), "\(name) \(g) mean \(gm[i]) vs \(wm[j])")
                XCTAssertTrue(close(Double(gd[i])!, Double(wd[j])!), "\(name) \(g) dispersion \(gd[i]) vs \(wd[j])")
                // scanpy stores dispersions_norm as float32 and it is a difference of nearby values: 1e-5 absolute.
                XCTAssertTrue(close(Double(gn[i])!, Double(wn[j])!, rel: 0) || Swift.abs(Double(gn[i])! - Double(wn[j])!) < 1e-5, "\(name) \(g) dispersion_norm \(gn[i]) vs \(wn[j])")
            }
            let wObs = try TSVTable(path: "\(dir)/expected/\(name)_obs.tsv")
            let gObs = try TSVTable(path: out.appendingPathComponent("obs.tsv").path)
            XCTAssertEqual(try gObs.values("barcode"), try wObs.values("barcode"), "\(name): cells")
            XCTAssertEqual(try gObs.values("n_counts").map { Double($0)! }, try wObs.values("n_counts").map { Double($0)! }, "\(name): n_counts")
            XCTAssertEqual(gObs.header, ["barcode", "label", "n_counts", "n_genes", "size_factor"])
        }
    }

    func testLabelsColumnAndTargetKept() throws {
        let dir = TestSupport.fixture("norm_small")
        let out = try runNormalize(["--n-top-genes", "10", "--labels", "\(dir)/labels.tsv", dir])
        let obs = try TSVTable(path: out.appendingPathComponent("obs.tsv").path)
        let labels = try obs.values("label")
        let target = labels[1]
        XCTAssertEqual(labels[0], "ctrl")
        XCTAssertTrue(target.hasPrefix("G"))
        XCTAssertEqual(labels[2], "NOTINPANEL+\(target)")
        let genes = try TSVTable(path: out.appendingPathComponent("genes.tsv").path)
        let i = try genes.values("symbol").firstIndex(of: target)
        XCTAssertNotNil(i, "the target \(target) must be kept")
        if let i { XCTAssertEqual(try genes.values("highly_variable")[i], "False") }
        // Without labels the label column is empty.
        let out2 = try runNormalize(["--n-top-genes", "10", dir])
        XCTAssertEqual(Set(try TSVTable(path: out2.appendingPathComponent("obs.tsv").path).values("label")), [""])
    }

    func testKeepGenesAndNoSelection() throws {
        let dir = TestSupport.fixture("norm_small")
        let tmp = TestSupport.tempDir("keep")
        let keep = tmp.appendingPathComponent("keep.txt").path
        try "# genes\nG15\nENSG00008\nNOPE\n".write(toFile: keep, atomically: true, encoding: .utf8)
        let out = try runNormalize(["--n-top-genes", "10", "--keep-genes", keep, dir])
        let syms = try TSVTable(path: out.appendingPathComponent("genes.tsv").path).values("symbol")
        XCTAssertTrue(syms.contains("G15") && syms.contains("G08"), "\(syms)")
        let hv = try TSVTable(path: out.appendingPathComponent("genes.tsv").path).values("highly_variable")
        XCTAssertEqual(hv.filter { $0 == "True" }.count, 10)
        XCTAssertEqual(syms.count, 10 + zip(syms, hv).filter { ($0.0 == "G15" || $0.0 == "G08") && $0.1 == "False" }.count)
        // No --n-top-genes: every gene that passes the filters is kept (scanpy's filtered var_names), none marked HVG.
        let all = try runNormalize(["--min-counts", "3", "--min-genes", "2", "--min-cells", "5", dir])
        let t = try TSVTable(path: all.appendingPathComponent("genes.tsv").path)
        XCTAssertEqual(try t.values("gene_id"), try TSVTable(path: "\(dir)/expected/filters_genes.tsv").values("gene_id"))
        XCTAssertEqual(Set(try t.values("highly_variable")), ["False"])
    }

    func testOtherMatrixLayoutsGiveIdenticalOutput() throws {
        let dir = TestSupport.fixture("norm_small")
        let ref = try runNormalize(["--n-top-genes", "10", dir])
        let refBytes = try Data(contentsOf: ref.appendingPathComponent("expr.npy"))
        for v in ["shuffled", "real", "array"] {
            let out = try runNormalize(["--n-top-genes", "10", "--matrix", "\(dir)/variants/\(v).mtx", dir])
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("expr.npy")), refBytes, v)
        }
    }

    func testThreadCountDoesNotChangeOutput() throws {
        let dir = TestSupport.fixture("norm_small")
        let a = try runNormalize(["--threads", "1", "--n-top-genes", "10", dir])
        let b = try runNormalize(["--threads", "3", "--n-top-genes", "10", dir])
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent("expr.npy")), try Data(contentsOf: b.appendingPathComponent("expr.npy")))
        for f in ["genes.tsv", "obs.tsv"] {
            let body = { (u: URL) in try String(contentsOf: u.appendingPathComponent(f), encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") } }
            XCTAssertEqual(try body(a), try body(b), f)
        }
    }

    func testCellRangerMergesDuplicatePercentileEdges() {
        // 5 of 20 genes with mean 0: the 10th, 15th and 20th percentiles coincide. scanpy raises; pv merges the edges.
        let means = [Double](repeating: 0, count: 5) + (1...15).map(Double.init)
        // Expected: pandas.cut(means, [-inf, percentiles..., inf], duplicates="drop").codes
        XCTAssertEqual(HVG.percentileBins(means), [0, 0, 0, 0, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
        // The seurat bins of pandas.cut: equal width with the first edge lowered by 0.1% of the range.
        XCTAssertEqual(HVG.equalWidthBins([0, 1, 2, 10], nBins: 5), [0, 0, 0, 4])
        XCTAssertEqual(HVG.equalWidthBins([0, 2, 2.0000001, 10], nBins: 5), [0, 0, 1, 4])
        XCTAssertEqual(HVG.equalWidthBins([3, 3], nBins: 4), [1, 1])  // a constant: edges widened by 0.1% each side
    }

    func testSingleGeneBinsAndNaNFollowScanpy() {
        // Bin 0 holds one gene (normalised dispersion 1 by scanpy's rule), bin 4 two identical genes (std 0: NaN), a
        // gene with NaN dispersion stays NaN and is never selected. Expected values from scanpy's _get_mean_bins,
        // _get_disp_stats and _subset_genes on these arrays.
        let means = [0.0, 10, 10, 9.9, 5.0, 5.1]
        let disp = [0.5, 2.0, 2.0, .nan, 3.0, 1.0]
        let r = HVG.select(means: means, dispersions: disp, flavor: .seurat, nBins: 5, nTop: 2)
        XCTAssertEqual(r.dispersionsNorm[0], 1)
        XCTAssertTrue(r.dispersionsNorm[1].isNaN && r.dispersionsNorm[2].isNaN && r.dispersionsNorm[3].isNaN)
        XCTAssertEqual(r.dispersionsNorm[4], 0.7071067811865475, accuracy: 1e-15)
        XCTAssertEqual(r.dispersionsNorm[5], -0.7071067811865475, accuracy: 1e-15)
        XCTAssertEqual(r.highlyVariable, [true, false, false, false, true, false])
        XCTAssertEqual(HVG.select(means: means, dispersions: disp, flavor: .seurat, nBins: 5, nTop: nil).highlyVariable,
                       [Bool](repeating: false, count: 6))
    }

    // MARK: real data

    func testNormanSubsetMatchesScanpy() throws {
        guard let n = TestSupport.normanDir else {
            throw XCTSkip("real data /work/shared/data/norman2019-subset is absent; the Norman known-answer test needs it")
        }
        let out = try runNormalize(["--n-top-genes", "200", "--labels", "\(n)/cells.tsv", n])
        try compareExpr(out.appendingPathComponent("expr.npy").path, "\(n)/reference/scanpy_expr.npy")
        let ref = try TSVTable(path: "\(n)/reference/scanpy_genes.tsv")
        let inExpr = zip(try ref.values("gene"), try ref.values("in_expr")).filter { $0.1 == "True" }.map { $0.0 }
        let hv = zip(try ref.values("gene"), try ref.values("highly_variable")).filter { $0.1 == "True" }.map { $0.0 }
        let got = try TSVTable(path: out.appendingPathComponent("genes.tsv").path)
        XCTAssertEqual(try got.values("symbol"), inExpr)
        XCTAssertEqual(zip(try got.values("symbol"), try got.values("highly_variable")).filter { $0.1 == "True" }.map { $0.0 }, hv)
        XCTAssertTrue(try got.values("symbol").contains("TMSB4X"))
        let obs = try TSVTable(path: out.appendingPathComponent("obs.tsv").path)
        let refObs = try TSVTable(path: "\(n)/reference/scanpy_obs.tsv")
        XCTAssertEqual(try obs.values("n_counts").map { Double($0)! }, try refObs.values("n_counts").map { Double($0)! })
        XCTAssertEqual(try obs.values("barcode"), refObs.rows.map { $0[0] })
    }
}
