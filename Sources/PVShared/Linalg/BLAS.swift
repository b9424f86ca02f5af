import COpenBLAS
import Foundation

/// Thin row-major wrappers over OpenBLAS. Every matrix product in pv goes through here.
///
/// pv runs one thread pool, its own (`Parallel`): OpenBLAS always runs on the calling thread, and a large product
/// called outside a parallel region is split into column (or row) blocks that `Parallel` runs on its threads, one
/// single-threaded OpenBLAS call each. Two pools (OpenBLAS's spinning pthreads beside pv's Dispatch threads) took
/// turns on the second core: a quarter of a 2-thread training step was OpenBLAS's idle thread in sched_yield
/// (bench/train/README.md).
public enum BLAS {
    /// OpenBLAS on the calling thread, set once before the first product.
    static let callingThreadOnly: Void = openblas_set_num_threads(1)

    /// Products of fewer FLOP than this run whole on the calling thread. A parallel region costs ~10–20 µs (1–2
    /// MFLOP of one core); thresholds from 0.25 to 8 MFLOP gave the same training rate within noise (bench/train).
    public static let splitFlop = 1 << 23
    /// Block boundaries are multiples of this (OpenBLAS's micro-kernels work on 16-wide panels; no ragged edges).
    static let splitAlign = 32

    /// C = alpha * op(A) * op(B) + beta * C, row-major. op(A) is m x k, op(B) is k x n, C is m x n.
    /// Split across `Parallel.threads` when large and not already inside a parallel region: along n when m ≤ n
    /// (each block packs all of the smaller op(A) and its own columns of op(B)), else along m. Each element of C
    /// is summed over k by one call either way, so the blocks agree with an unsplit call; the split depends only on
    /// the shape and the thread count, so results are deterministic for a thread count.
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let t = Parallel.threads
        if t > 1, 2 * m * n * k >= splitFlop, !Parallel.inRegion {
            let alongN = m <= n
            let len = alongN ? n : m
            let size = (len + t - 1) / t, block = (size + splitAlign - 1) / splitAlign * splitAlign
            let parts = (len + block - 1) / block
            if parts > 1 {
                Parallel.parts(parts) { i in
                    let lo = i * block, cnt = min(len, lo + block) - lo
                    if alongN {  // columns lo..<lo+cnt of op(B) and C
                        gemm1(transA, transB, m, cnt, k, alpha, a, lda, b + (transB ? lo * ldb : lo), ldb, beta, c + lo, ldc)
                    } else {     // rows lo..<lo+cnt of op(A) and C
                        gemm1(transA, transB, cnt, n, k, alpha, a + (transA ? lo : lo * lda), lda, b, ldb, beta,
                              c + lo * ldc, ldc)
                    }
                }
                return
            }
        }
        gemm1(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    @inline(__always)
    static func gemm1(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                      _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
                      _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        _ = callingThreadOnly
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}
