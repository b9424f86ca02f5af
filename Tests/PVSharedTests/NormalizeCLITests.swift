import XCTest
import PVShared

/// Bad inputs through the pv-normalize command line: exit code, the one-line message (file:line: what), and that the
/// output folder is left as it was (no new file, a pre-existing expr.npy untouched).
final class NormalizeCLITests: XCTestCase {
    static let header = "%%MatrixMarket matrix coordinate integer general\n% test\n"
    /// 3 genes x 4 cells, every cell with counts.
    static let goodBody = "3 4 6\n1 1 5\n3 1 2\n2 2 7\n1 3 1\n2 3 4\n3 4 9\n"
    static let barcodes = "AAA-1\nCCC-1\nGGG-1\nTTT-1\n"
    static let features = "ENSG1\tA1\tGene Expression\nENSG2\tB2\tGene Expression\nENSG3\tC3\tGene Expression\n"

    /// Writes a 10x folder; `matrix` nil leaves the matrix out. Returns the folder.
    func tenx(matrix: String? = header + goodBody, gzip: Bool = false, matrixBytes: [UInt8]? = nil,
              barcodes: String = barcodes, features: String = features) throws -> URL {
        let d = TestSupport.tempDir("bad10x")
        if let matrixBytes {
            try Data(matrixBytes).write(to: d.appendingPathComponent("matrix.mtx.gz"))
        } else if let matrix {
            if gzip { try Data(gz(matrix)).write(to: d.appendingPathComponent("matrix.mtx.gz")) }
            else { try matrix.write(to: d.appendingPathComponent("matrix.mtx"), atomically: true, encoding: .utf8) }
        }
        try barcodes.write(to: d.appendingPathComponent("barcodes.tsv"), atomically: true, encoding: .utf8)
        try features.write(to: d.appendingPathComponent("features.tsv"), atomically: true, encoding: .utf8)
        return d
    }

    func gz(_ s: String) throws -> [UInt8] {
        let p = TestSupport.tempDir("gz").appendingPathComponent("x.gz").path
        let o = try OutputFile(p)
        let g = try GzipWriter(o)
        try g.write(s); try g.finish(); try o.commit()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
    }

    /// Runs pv-normalize twice (into a fresh folder and into one holding an old expr.npy) and checks the failure.
    func expectFailure(_ dir: URL, _ extra: [String] = [], status: Int32, message: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let fresh = TestSupport.tempDir("out").appendingPathComponent("new")
        let r1 = try TestSupport.run("pv-normalize", ["--quiet", "--out", fresh.path] + extra + [dir.path])
        XCTAssertEqual(r1.status, status, r1.stderr, file: file, line: line)
        XCTAssertEqual(r1.stderr, "pv-normalize: " + message + "\n", file: file, line: line)
        XCTAssertEqual(TestSupport.files(in: fresh), [], "no output file may be left", file: file, line: line)
        let old = TestSupport.tempDir("out")
        let sentinel = Data("old expr".utf8)
        try sentinel.write(to: old.appendingPathComponent("expr.npy"))
        let r2 = try TestSupport.run("pv-normalize", ["--quiet", "--out", old.path] + extra + [dir.path])
        XCTAssertEqual(r2.status, status, file: file, line: line)
        XCTAssertEqual(TestSupport.files(in: old), ["expr.npy"], "no new file, no temporary left", file: file, line: line)
        XCTAssertEqual(try Data(contentsOf: old.appendingPathComponent("expr.npy")), sentinel, "old expr.npy untouched", file: file, line: line)
    }

    func mtx(_ d: URL) -> String { d.appendingPathComponent("matrix.mtx").path }

    func testGoodInputWorks() throws {
        let d = try tenx()
        let out = TestSupport.tempDir("out")
        let r = try TestSupport.run("pv-normalize", ["--quiet", "--out", out.path, d.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(TestSupport.files(in: out), ["expr.npy", "genes.tsv", "obs.tsv"])
        let a = try NPYArray(path: out.appendingPathComponent("expr.npy").path)
        XCTAssertEqual(a.shape, [4, 3])
        // Cell 1: counts 5, 0, 2; median total 7 (totals 7, 7, 5, 9) -> log1p(5), 0, log1p(2).
        let v = try a.floats()
        XCTAssertEqual(v[0], Foundation.log1p(Float(5)), accuracy: 1e-6)
        XCTAssertEqual(v[1], 0)
        XCTAssertEqual(v[2], Foundation.log1p(Float(2)), accuracy: 1e-6)
        withExtendedLifetime(a) {}
    }

    func testBadBanner() throws {
        let d = try tenx(matrix: "%%MatrixMarkt matrix coordinate integer general\n" + Self.goodBody)
        try expectFailure(d, status: 65, message: "\(mtx(d)):1: not a Matrix Market file: expected the banner '%%MatrixMarket matrix coordinate integer general', found '%%MatrixMarkt matrix coordinate integer general'")
    }

    func testUnsupportedSymmetry() throws {
        let d = try tenx(matrix: "%%MatrixMarket matrix coordinate integer symmetric\n" + Self.goodBody)
        try expectFailure(d, status: 65, message: "\(mtx(d)):1: unsupported Matrix Market symmetry 'symmetric' (only 'general': a count matrix is not symmetric)")
    }

    func testUnsupportedField() throws {
        let d = try tenx(matrix: "%%MatrixMarket matrix coordinate complex general\n" + Self.goodBody)
        try expectFailure(d, status: 65, message: "\(mtx(d)):1: unsupported Matrix Market field 'complex' (expected integer, real or pattern)")
    }

    func testPatternRejected() throws {
        let d = try tenx(matrix: "%%MatrixMarket matrix coordinate pattern general\n3 4 2\n1 1\n2 2\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):1: a 'pattern' matrix holds no counts; an integer or real count matrix is needed")
    }

    func testBadSizeLine() throws {
        let d = try tenx(matrix: Self.header + "3 four 6\n1 1 5\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):3: bad size line '3 four 6': expected 3 non-negative integers 'rows columns entries'")
    }

    func testMissingSizeLine() throws {
        let d = try tenx(matrix: Self.header)
        try expectFailure(d, status: 65, message: "\(mtx(d)):2: file ends before the size line ('rows columns entries')")
    }

    func testIndexZero() throws {
        let d = try tenx(matrix: Self.header + "3 4 2\n1 1 5\n0 2 7\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):5: row index 0: Matrix Market indices are 1-based")
    }

    func testRowIndexTooLarge() throws {
        let d = try tenx(matrix: Self.header + "3 4 2\n1 1 5\n4 2 7\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):5: row index 4 exceeds the declared 3 rows")
    }

    func testColumnIndexTooLarge() throws {
        let d = try tenx(matrix: Self.header + "3 4 2\n1 1 5\n2 5 7\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):5: column index 5 exceeds the declared 4 columns")
    }

    func testNonNumericValue() throws {
        let d = try tenx(matrix: "%%MatrixMarket matrix coordinate real general\n3 4 2\n1 1 5\n2 2 abc\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):4: value 'abc' is not a number")
    }

    func testNonIntegerInIntegerMatrix() throws {
        let d = try tenx(matrix: Self.header + "3 4 2\n1 1 5\n2 2 1.5\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):5: value '1.5' is not an integer (the header declares an integer matrix)")
    }

    func testNegativeValue() throws {
        let d = try tenx(matrix: Self.header + "3 4 2\n1 1 5\n2 2 -3\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):5: negative count -3 (counts must be >= 0)")
        let r = try tenx(matrix: "%%MatrixMarket matrix coordinate real general\n3 4 1\n2 2 -0.5\n")
        try expectFailure(r, status: 65, message: "\(mtx(r)):3: negative value -0.5 (counts must be >= 0)")
    }

    func testNonFiniteValues() throws {
        for v in ["nan", "inf", "-Infinity", "1e400"] {
            let d = try tenx(matrix: "%%MatrixMarket matrix coordinate real general\n3 4 2\n1 1 5\n2 2 \(v)\n")
            try expectFailure(d, status: 65, message: "\(mtx(d)):4: non-finite value '\(v)' (counts must be finite)")
        }
    }

    func testDuplicateEntry() throws {
        let d = try tenx(matrix: Self.header + "3 4 3\n1 1 5\n2 2 7\n1 1 2\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):6: duplicate entry for row 1, column 1 (first on line 4)")
        // Out of cell order (the counting-sort path).
        let s = try tenx(matrix: Self.header + "3 4 4\n2 3 5\n2 2 7\n3 1 1\n2 3 2\n")
        try expectFailure(s, status: 65, message: "\(mtx(s)):7: duplicate entry for row 2, column 3 (first on line 4)")
    }

    func testTooFewEntries() throws {
        let d = try tenx(matrix: Self.header + "3 4 3\n1 1 5\n2 2 7\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):5: file ends after 2 of the 3 entries declared in the size line (line 3): truncated?")
    }

    func testTooManyEntries() throws {
        let d = try tenx(matrix: Self.header + "3 4 1\n1 1 5\n2 2 7\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):5: more entries than the 1 declared in the size line (line 3)")
    }

    func testBarcodesCountMismatch() throws {
        let d = try tenx(barcodes: "AAA-1\nCCC-1\nGGG-1\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):3: matrix declares 4 columns (cells) but \(d.path)/barcodes.tsv lists 3 barcodes")
    }

    func testFeaturesCountMismatch() throws {
        let d = try tenx(features: "ENSG1\tA1\tGene Expression\nENSG2\tB2\tGene Expression\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):3: matrix declares 3 rows (genes) but \(d.path)/features.tsv lists 2 genes")
    }

    func testTransposedMatrix() throws {
        let d = try tenx(matrix: Self.header + "4 3 1\n1 1 5\n")
        try expectFailure(d, status: 65, message: "\(mtx(d)):3: matrix is 4 x 3, which looks transposed: 10x matrices are genes x cells (3 genes in \(d.path)/features.tsv, 4 barcodes in \(d.path)/barcodes.tsv)")
    }

    func testTruncatedGzip() throws {
        let full = try gz(Self.header + Self.goodBody)
        let d = try tenx(matrixBytes: Array(full.prefix(full.count - 12)))
        let p = d.appendingPathComponent("matrix.mtx.gz").path
        try expectFailure(d, status: 65, message: "\(p): byte \(full.count - 12): truncated gzip stream (unexpected end of file)")
    }

    func testCorruptGzip() throws {
        var bytes = try gz(Self.header + Self.goodBody)
        for i in 12..<min(bytes.count - 8, 40) { bytes[i] ^= 0x5a }
        let d = try tenx(matrixBytes: bytes)
        let r = try TestSupport.run("pv-normalize", ["--quiet", "--out", TestSupport.tempDir("o").path, d.path])
        XCTAssertEqual(r.status, 65)
        XCTAssertTrue(r.stderr.hasPrefix("pv-normalize: \(d.path)/matrix.mtx.gz: byte ") && r.stderr.contains("corrupt gzip stream"), r.stderr)
        let message = String(r.stderr.dropFirst("pv-normalize: ".count).dropLast())
        try expectFailure(d, status: 65, message: message)
    }

    func testEmptyMatrixFile() throws {
        let d = try tenx(matrix: "")
        try expectFailure(d, status: 65, message: "\(mtx(d)): empty file, expected a Matrix Market banner '%%MatrixMarket matrix coordinate integer general'")
    }

    func testMissingMatrixFile() throws {
        let d = try tenx(matrix: nil)
        try expectFailure(d, status: 66, message: "\(d.path): no matrix.mtx.gz or matrix.mtx in this folder")
        try expectFailure(d, ["--matrix", d.path + "/nope.mtx"], status: 66,
                          message: "\(d.path)/nope.mtx: cannot open: No such file or directory")
    }

    func testFeaturesInconsistentColumns() throws {
        let d = try tenx(features: "ENSG1\tA1\tGene Expression\nENSG2\tB2\nENSG3\tC3\tGene Expression\n")
        try expectFailure(d, status: 65, message: "\(d.path)/features.tsv:2: expected 3 tab-separated fields, found 2")
    }

    func testLabelForUnknownBarcode() throws {
        let d = try tenx()
        let l = d.appendingPathComponent("cells.tsv")
        try "barcode\tlabel\nAAA-1\tctrl\nCCC-1\tA1\nGGG-1\tctrl\nTTT-1\tB2\nXXX-9\tctrl\n".write(to: l, atomically: true, encoding: .utf8)
        try expectFailure(d, ["--labels", l.path], status: 65, message: "\(l.path):6: barcode XXX-9 is not in \(d.path)/barcodes.tsv")
    }

    func testUnlabelledBarcode() throws {
        let d = try tenx()
        let l = d.appendingPathComponent("cells.tsv")
        try "# comment\nAAA-1\tctrl\nCCC-1\tA1\nTTT-1\tB2\n".write(to: l, atomically: true, encoding: .utf8)
        try expectFailure(d, ["--labels", l.path], status: 65,
                          message: "\(d.path)/barcodes.tsv:3: barcode GGG-1 has no label in \(l.path) (use --drop-unlabelled to drop such cells)")
        // With --drop-unlabelled the cell is dropped and the run succeeds; target genes stay.
        let out = TestSupport.tempDir("out")
        let r = try TestSupport.run("pv-normalize", ["--quiet", "--drop-unlabelled", "--n-top-genes", "1", "--labels", l.path, "--out", out.path, d.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obs = try TSVTable(path: out.appendingPathComponent("obs.tsv").path)
        XCTAssertEqual(try obs.values("barcode"), ["AAA-1", "CCC-1", "TTT-1"])
        XCTAssertEqual(try obs.values("label"), ["ctrl", "A1", "B2"])
        let genes = try TSVTable(path: out.appendingPathComponent("genes.tsv").path)
        XCTAssertTrue(Set(try genes.values("symbol")).isSuperset(of: ["A1", "B2"]))
    }

    func testUsageErrors() throws {
        let d = try tenx()
        let r = try TestSupport.run("pv-normalize", [d.path])
        XCTAssertEqual(r.status, 64)
        XCTAssertEqual(r.stderr, "pv-normalize: option --out is required (see pv-normalize --help)\n")
        let f = try TestSupport.run("pv-normalize", ["--out", TestSupport.tempDir().path, "--flavor", "seurat_v3", d.path])
        XCTAssertEqual(f.status, 64)
        XCTAssertEqual(f.stderr, "pv-normalize: option --flavor: expected one of seurat, cell_ranger, got 'seurat_v3'\n")
    }

    func testOnlyGeneExpressionFeaturesByDefault() throws {
        // A guide-capture row (as Cell Ranger writes for CRISPR screens) is not a gene: dropped unless --all-features.
        let d = try tenx(features: "ENSG1\tA1\tGene Expression\nENSG2\tB2\tGene Expression\nsgA1\tsgA1\tCRISPR Guide Capture\n")
        let out = TestSupport.tempDir("out")
        let r = try TestSupport.run("pv-normalize", ["--out", out.path, d.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("using the 2 'Gene Expression' features; 1 others (CRISPR Guide Capture) dropped"), r.stderr)
        XCTAssertEqual(try TSVTable(path: out.appendingPathComponent("genes.tsv").path).values("gene_id"), ["ENSG1", "ENSG2"])
        // Totals count genes only: cell 1 has 5 (gene) + 2 (guide) -> 5.
        XCTAssertEqual(try TSVTable(path: out.appendingPathComponent("obs.tsv").path).values("n_counts"), ["5.0", "7.0", "5.0", "0.0"])
        let all = TestSupport.tempDir("out")
        let r2 = try TestSupport.run("pv-normalize", ["--quiet", "--all-features", "--out", all.path, d.path])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        XCTAssertEqual(try TSVTable(path: all.appendingPathComponent("genes.tsv").path).values("gene_id"), ["ENSG1", "ENSG2", "sgA1"])
    }

    func testMatrixMarketAcceptsGzipByMagicNotName() throws {
        // A gzip file named matrix.mtx (no .gz) reads fine.
        let d = try tenx(matrix: nil)
        try Data(try gz(Self.header + Self.goodBody)).write(to: d.appendingPathComponent("matrix.mtx"))
        let out = TestSupport.tempDir("out")
        let r = try TestSupport.run("pv-normalize", ["--quiet", "--out", out.path, d.path])
        XCTAssertEqual(r.status, 0, r.stderr)
    }
}

extension NormalizeCLITests {
    /// expr.npy is written at its place by both threads, each from pieces of ~1 MB (one thread: the same pieces in
    /// order), or (into a stream; forced here on a file with PV_TEST_NO_REGION) block by block in order, written
    /// by a second thread while the next block is filled: the same bytes every way, run id included (it hashes the
    /// rows written). 5,000 cells x 2,000 genes: 40 pieces, two blocks of 32 MiB.
    func testDenseOutputIsTheSameByPlaceOrInOrder() throws {
        let cells = 5_000, genes = 2_000
        var body = ""
        var n = 0
        for c in 1...cells {
            for g in stride(from: 1 + c % 7, through: genes, by: 7) { body += "\(g) \(c) \((c * 3 + g) % 11 + 1)\n"; n += 1 }
        }
        let barcodes = (1...cells).map { "C\($0)-1\n" }.joined()
        let features = (1...genes).map { "ENSG\($0)\tG\($0)\tGene Expression\n" }.joined()
        let d = try tenx(matrix: Self.header + "\(genes) \(cells) \(n)\n" + body, barcodes: barcodes, features: features)
        var outputs: [Data] = []
        var first: URL? = nil
        for (args, env) in [([], [:]), (["--threads", "1"], [:]), ([], ["PV_TEST_NO_REGION": "1"])] {
            let out = TestSupport.tempDir("out")
            let r = try TestSupport.run("pv-normalize", ["--quiet", "--out", out.path] + args + [d.path], env: env)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(TestSupport.files(in: out), ["expr.npy", "genes.tsv", "obs.tsv"])
            outputs.append(try Data(contentsOf: out.appendingPathComponent("expr.npy")))
            first = first ?? out
        }
        XCTAssertEqual(outputs[0].count, 128 + cells * genes * 4)
        XCTAssertTrue(outputs[0] == outputs[1], "outputs on 2 and 1 threads differ")
        XCTAssertTrue(outputs[0] == outputs[2], "outputs written by place and in order differ")
        // Known values, computed here: log1p(count / sf) with sf = total / median total (scanpy normalize_total).
        let (rows, cols, v) = try NPYArray(path: first!.appendingPathComponent("expr.npy").path).matrix()
        XCTAssertEqual(rows, cells); XCTAssertEqual(cols, genes)
        func counts(_ c: Int) -> [(Int, Double)] {
            stride(from: 1 + c % 7, through: genes, by: 7).map { ($0, Double((c * 3 + $0) % 11 + 1)) }
        }
        let totals = (1...cells).map { counts($0).reduce(0) { $0 + $1.1 } }.sorted()
        let median = (totals[cells / 2 - 1] + totals[cells / 2]) / 2
        for c in [1, 2_500, cells] {
            let cs = counts(c), total = cs.reduce(0) { $0 + $1.1 }
            var want = [Double](repeating: 0, count: genes)
            for (g, k) in cs { want[g - 1] = Foundation.log1p(k / (total / median)) }
            for g in 0..<genes { XCTAssertEqual(Double(v[(c - 1) * genes + g]), want[g], accuracy: 1e-5, "cell \(c) gene \(g)") }
        }
    }
}

extension NormalizeCLITests {
    /// expr.npy as a named pipe: refused before the matrix is read (its header is rewritten once the data are
    /// hashed, which a pipe cannot take), with the path named, exit 74, and the pipe left a pipe with nothing in it.
    func testExprToAPipeIsRefusedUpFront() throws {
        let d = try tenx()
        let out = TestSupport.tempDir("out")
        let fifo = out.appendingPathComponent("expr.npy").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let fd = open(fifo, O_RDONLY | O_NONBLOCK)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let r = try TestSupport.run("pv-normalize", ["--quiet", "--out", out.path, d.path])
        XCTAssertEqual(r.status, 74, r.stderr)
        XCTAssertEqual(r.stderr, "pv-normalize: \(fifo): is not a regular file: expr.npy cannot go to a pipe or device (its header, written last, holds a hash of the data)\n")
        XCTAssertEqual(TestSupport.files(in: out), ["expr.npy"], "no other output, no temporary")
        var st = stat()
        XCTAssertEqual(lstat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO)
        var byte: UInt8 = 0
        XCTAssertLessThanOrEqual(read(fd, &byte, 1), 0, "nothing was written into the pipe")
    }
}
