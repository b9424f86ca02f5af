import Foundation
import XCTest
import PVShared

/// Seeded mutation fuzz of every reader (issue 10, CI): valid files of each format are corrupted (bytes flipped,
/// set to boundary values, inserted, deleted, duplicated, truncated) and read in-process. Each read must either
/// succeed or throw a `PVError` (a clean exit code and one message); any other error fails the test, and a crash
/// or hang ends it. The seed is fixed so that a failure reproduces; PV_FUZZ_SEED and PV_FUZZ_MUTANTS widen a run.
final class ReaderFuzzTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("fuzz") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// SplitMix64: the same mutants on every machine.
    struct Rand {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9e3779b97f4a7c15
            var z = s
            z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
            z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    }

    static let interesting: [UInt8] = [0, 0xff, 0x7f, 0x80, 0x0a, 0x0d, 0x09, 0x20, 0x2d, 0x2b, 0x30, 0x39, 0x25, 0x23, 0x2e, 0x65, 0x27, 0x28, 0x2c]

    /// One to three mutations of `seed`.
    static func mutate(_ seed: [UInt8], _ r: inout Rand) -> [UInt8] {
        var b = seed
        for _ in 0...r.below(3) {
            let n = b.count
            switch r.below(7) {
            case 0 where n > 0: b[r.below(n)] ^= UInt8(1 << r.below(8))
            case 1 where n > 0: b[r.below(n)] = interesting[r.below(interesting.count)]
            case 2: b.insert(contentsOf: (0..<(1 + r.below(8))).map { _ in interesting[r.below(interesting.count)] }, at: r.below(n + 1))
            case 3 where n > 1: let i = r.below(n); b.removeSubrange(i..<min(n, i + 1 + r.below(16)))
            case 4 where n > 1: let i = r.below(n), k = min(n - i, 1 + r.below(64)); b.insert(contentsOf: b[i..<(i + k)], at: r.below(n + 1))
            case 5 where n > 0: b.removeSubrange(r.below(n)..<n)
            case 6 where n > 8:
                // A 4-byte little-endian integer overwritten with a boundary value (sizes, offsets, counts).
                let i = r.below(n - 4), v: [UInt32] = [0, 1, 0x7fff_ffff, 0xffff_ffff, 0x1000_0000, UInt32(n)]
                let x = v[r.below(v.count)]
                for k in 0..<4 { b[i + k] = UInt8((x >> (8 * UInt32(k))) & 0xff) }
            default: if n > 0 { b[r.below(n)] &+= 1 }
            }
        }
        return b
    }

    private var seed: UInt64 { ProcessInfo.processInfo.environment["PV_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20261206 }
    private var perSeed: Int { ProcessInfo.processInfo.environment["PV_FUZZ_MUTANTS"].flatMap { Int($0) } ?? 30 }

    /// Reads `mutants` corruptions of every seed file with `read`; returns how many were rejected and accepted.
    @discardableResult
    private func fuzz(_ label: String, seeds: [(name: String, bytes: [UInt8])], salt: UInt64,
                      read: (String) throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> (rejected: Int, accepted: Int) {
        var r = Rand(s: seed ^ salt)
        var rejected = 0, accepted = 0
        for s in seeds {
            // The seed itself must read: a reader that rejects everything would pass the fuzz trivially.
            let good = FormatTest.write(s.bytes, s.name, in: dir)
            do { try read(good) } catch { XCTFail("\(label): the valid seed \(s.name) fails: \(error)", file: file, line: line) }
            for k in 0..<perSeed {
                let m = Self.mutate(s.bytes, &r)
                let p = FormatTest.write(m, "m\(k)-" + s.name, in: dir)
                do { try read(p); accepted += 1 } catch let e as PVError {
                    rejected += 1
                    XCTAssertTrue((64...74).contains(e.exitCode), "\(label): \(e)", file: file, line: line)
                    XCTAssertFalse(sanitizedMessage(e.description).contains("\n"), file: file, line: line)
                } catch {
                    XCTFail("\(label): mutant \(k) of \(s.name) (seed \(seed)) threw a non-PVError: \(error)", file: file, line: line)
                }
                unlink(p)
            }
        }
        XCTAssertGreaterThan(rejected, 0, "\(label): some mutants are rejected", file: file, line: line)
        return (rejected, accepted)
    }

    private func fixture(_ name: String) -> [UInt8] { FormatTest.read(TestSupport.fixture(name)) }
    private func gunzip(_ path: String) throws -> [UInt8] { try ByteSource(path: path).readAll() }

    func testMatrixMarketPlainAndGzip() throws {
        let gz = TestSupport.fixture("norm_small/matrix.mtx.gz")
        let plain = try gunzip(gz)
        let h = try MatrixMarket.readHeader(LineReader(path: gz))
        let expect = MatrixMarketExpectedShape(genes: h.rows, genesFile: "features.tsv", cells: h.cols, cellsFile: "barcodes.tsv")
        // A small text seed too, so that mutations hit the banner and size line often.
        let tiny = Array("%%MatrixMarket matrix coordinate integer general\n% c\n3 2 4\n1 1 5\n2 1 1\n3 2 7\n1 2 2\n".utf8)
        let tinyExpect = MatrixMarketExpectedShape(genes: 3, genesFile: "features.tsv", cells: 2, cellsFile: "barcodes.tsv")
        fuzz("Matrix Market", seeds: [("tiny.mtx", tiny)], salt: 1) { _ = try MatrixMarket.readCellsByGenes(path: $0, expect: tinyExpect) }
        fuzz("Matrix Market", seeds: [("m.mtx", plain)], salt: 2) { _ = try MatrixMarket.readCellsByGenes(path: $0, expect: expect) }
        fuzz("gzip Matrix Market", seeds: [("m.mtx.gz", FormatTest.read(gz))], salt: 3) { _ = try MatrixMarket.readCellsByGenes(path: $0, expect: expect) }
    }

    func testGzipStreams() throws {
        let seeds = [("two.txt.gz", fixture("two_members.txt.gz")), ("plain.tsv.gz", fixture("gzipped_plain_name.tsv"))]
        fuzz("gzip", seeds: seeds, salt: 4) { _ = try ByteSource(path: $0).readAll() }
    }

    func testNPY() throws {
        let seeds = ["f32_3x4.npy", "f32_3x4_v2.npy", "i64_1d.npy", "f64_1d.npy"].map { ($0, fixture($0)) }
        fuzz("NPY", seeds: seeds, salt: 5) { p in
            let a = try NPYArray(path: p)
            // Touch every element: a header that promises more than the file holds must have been refused.
            if a.dtype == .float32 { _ = try a.floats().reduce(0, +) } else if a.dtype == .float64 { _ = a.floatArray().count } else { _ = try a.ints() }
        }
    }

    func testNPZAndModelFiles() throws {
        var m = ModelFile(kind: "additive", genes: ["g1", "g2", "g3"], targets: ["A", "B"], meta: ["note": "fuzz"])
        m.set("deltas", [1, 2, 3, 4, 5, 6], shape: [2, 3])
        let mp = dir.appendingPathComponent("model.npz").path
        try m.write(mp)
        let seeds = [("savez.npz", fixture("savez.npz")), ("savez_compressed.npz", fixture("savez_compressed.npz")),
                     ("deflated.npz", fixture("deflated.zip"))]
        fuzz("NPZ", seeds: seeds, salt: 6) { p in
            let z = try NPZ(path: p)
            for member in z.members where member.name.hasSuffix(".npy") { _ = try z.array(String(member.name.dropLast(4)), file: p).count }
        }
        fuzz("model file", seeds: [("model.npz", FormatTest.read(mp))], salt: 7) { _ = try ModelFile(path: $0) }
    }

    func testTSVTables() throws {
        let split = Array(("# pv-split 0\n# run: 0123456789abcdef\nbarcode\tlabel\tcondition\tset\tgroup\n"
            + "AAA-1\tctrl\tctrl\ttrain\tcontrol\nCCC-1\tB+A\tA+B\ttest\tdouble\nGGG-1\tA\tA\tval\tsingle\n").utf8)
        let cells = Array("AAA-1\tctrl\nCCC-1\tA+B\nGGG-1\tA\nTTT-1\tB\n".utf8)
        let features = Array("ENSG1\tG1\tGene Expression\nENSG2\tG2\tGene Expression\n".utf8)
        fuzz("split.tsv", seeds: [("split.tsv", split)], salt: 8) { _ = try SplitTable(path: $0) }
        fuzz("labels", seeds: [("cells.tsv", cells)], salt: 9) { _ = try LabeledCells(path: $0, syntax: LabelSyntax()) }
        fuzz("TSV", seeds: [("t.tsv", split)], salt: 10) { _ = try TSVTable(path: $0) }
        fuzz("features.tsv", seeds: [("features.tsv", features)], salt: 11) { _ = try readFeatures($0) }
    }
}
