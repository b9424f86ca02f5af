import XCTest
import PVShared

/// BLAS.gemm splits large products into blocks run on pv's threads. Each block must equal the unsplit product:
/// checked against a float64 triple loop (independent of OpenBLAS) and against the same call on one thread, for
/// every transpose combination, strided operands, beta ≠ 0, and shapes split along n and along m with ragged ends.
final class BLASSplitTests: XCTestCase {
    var saved = 0
    override func setUp() { saved = Parallel.threads }
    override func tearDown() { Parallel.threads = saved }

    /// op(A)[m,k]·op(B)[k,n] in float64, from row-major storage with leading dimensions.
    func reference(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: [Float], _ lda: Int,
                   _ b: [Float], _ ldb: Int, _ beta: Float, _ c: [Float], _ ldc: Int) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = ta ? a[p * lda + i] : a[i * lda + p]
                    let bv = tb ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(av) * Double(bv)
                }
                out[i * ldc + j] = Float(Double(alpha) * s + Double(beta) * Double(c[i * ldc + j]))
            }
        }
        return out
    }

    func testSplitProductsEqualReferenceAndUnsplit() {
        var rng = RNG(seed: 3)
        // (m, n, k): wide (split along n, ragged last block), tall (split along m), one below the split size.
        let shapes = [(70, 2_113, 40), (1_537, 60, 50), (8, 9, 10)]
        for (m, n, k) in shapes {
            XCTAssertEqual(2 * m * n * k >= BLAS.splitFlop, m > 8, "shape \(m)x\(n)x\(k) on the intended side")
            for ta in [false, true] {
                for tb in [false, true] {
                    let (ar, ac) = ta ? (k, m) : (m, k), (br, bc) = tb ? (n, k) : (k, n)
                    let lda = ac + 3, ldb = bc + 5, ldc = n + 7
                    let a = (0..<(ar * lda)).map { _ in rng.normal() }
                    let b = (0..<(br * ldb)).map { _ in rng.normal() }
                    let c0 = (0..<(m * ldc)).map { _ in rng.normal() }
                    func run(threads: Int) -> [Float] {
                        Parallel.threads = threads
                        var c = c0
                        c.withUnsafeMutableBufferPointer { cp in
                            BLAS.gemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b,
                                      ldb: ldb, beta: 0.25, c: cp.baseAddress!, ldc: ldc)
                        }
                        return c
                    }
                    let one = run(threads: 1), two = run(threads: 2), three = run(threads: 3)
                    let want = reference(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 0.25, c0, ldc)
                    var worst: Float = 0
                    for i in 0..<one.count { worst = max(worst, abs(two[i] - want[i])) }
                    XCTAssertLessThan(worst, 1e-4 * Float(k), "\(m)x\(n)x\(k) ta \(ta) tb \(tb)")
                    // Blocks agree with the unsplit call element by element (padding columns of C untouched too).
                    XCTAssertEqual(two, one, "\(m)x\(n)x\(k) ta \(ta) tb \(tb): 2 threads")
                    XCTAssertEqual(three, one, "\(m)x\(n)x\(k) ta \(ta) tb \(tb): 3 threads")
                }
            }
        }
    }

    /// Inside a parallel region a product runs whole on its thread (no nested split), and the result is the same.
    func testNoSplitInsideARegion() {
        Parallel.threads = 2
        var rng = RNG(seed: 4)
        let m = 64, n = 3_000, k = 64
        let a = (0..<(m * k)).map { _ in rng.normal() }, b = (0..<(k * n)).map { _ in rng.normal() }
        var outside = [Float](repeating: 0, count: m * n), inside = outside
        var sawRegion = false
        outside.withUnsafeMutableBufferPointer { c in
            BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c.baseAddress!, ldc: n)
        }
        XCTAssertFalse(Parallel.inRegion)
        inside.withUnsafeMutableBufferPointer { c in
            let cp = c.baseAddress!
            Parallel.parts(2) { i in
                if i == 0 {
                    sawRegion = Parallel.inRegion
                    BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: cp, ldc: n)
                }
            }
        }
        XCTAssertTrue(sawRegion)
        XCTAssertFalse(Parallel.inRegion)
        XCTAssertEqual(inside, outside)
    }
}
