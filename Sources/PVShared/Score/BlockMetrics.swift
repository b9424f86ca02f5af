import Foundation

/// The per-block metrics of discrepancy-VAE (Zhang et al. 2023; uhlerlab/discrepancy_vae,
/// `notebooks/plot_samples.ipynb` and `src/utils.py`), on one block of b predicted and b true cells:
/// - `r2_dvae`: max(r2_score(mean(pred block), mean(true block)), 0): sklearn's r2 with y_true = the predicted
///   mean (their argument order), clipped at 0.
/// - `rmse_norm`: sqrt(mean((pred − true)²) / mean(true²)), cells paired in order.
/// - `mmd`: `MMD_loss(fix_sigma=1000, kernel_num=10)` (kernel_mul 2): bandwidths 1000 / 2^(10/2) · 2^i,
///   i = 0..9, kernel sum_i exp(−‖a − b‖² / bw_i) (squared distance over the bandwidth, no factor 2), and the
///   biased estimate mean(K_xx + K_yy − K_xy − K_yx) over the 2b x 2b kernel matrix, diagonals included.
/// Squared distances come from one BLAS product of the stacked, column-centred block (‖a‖² + ‖b‖² − 2a·b;
/// centring first keeps the cancellation small in float32).
public final class BlockMetrics {
    public static let bandwidths: [Double] = (0..<10).map { 1000.0 / 32.0 * pow(2.0, Double($0)) }

    let cols: Int
    private var stacked: [Float]
    private var gram: [Float]
    private var colMean: [Double]

    /// A workspace for blocks of up to `maxBlock` cells per side and `cols` genes (reuse it across blocks).
    public init(maxBlock: Int, cols: Int) {
        self.cols = cols
        stacked = [Float](repeating: 0, count: 2 * maxBlock * cols)
        gram = [Float](repeating: 0, count: 4 * maxBlock * maxBlock)
        colMean = [Double](repeating: 0, count: cols)
    }

    /// Metrics of one block; `pred` and `truth` give b row pointers each.
    public func compute(pred: [UnsafePointer<Float>], truth: [UnsafePointer<Float>]) -> (r2dvae: Double, rmse: Double, mmd: Double) {
        let b = pred.count, g = cols
        precondition(truth.count == b && 2 * b * g <= stacked.count)
        // Means of each side and the paired error.
        var sse = 0.0, sst = 0.0
        var predMean = [Double](repeating: 0, count: g), trueMean = [Double](repeating: 0, count: g)
        for i in 0..<b {
            let p = pred[i], t = truth[i]
            for j in 0..<g {
                let pv = Double(p[j]), tv = Double(t[j])
                predMean[j] += pv; trueMean[j] += tv
                let d = pv - tv
                sse += d * d; sst += tv * tv
            }
        }
        for j in 0..<g { predMean[j] /= Double(b); trueMean[j] /= Double(b) }
        let rmse = sst > 0 ? (sse / sst).squareRoot() : (sse == 0 ? 0 : .infinity)
        let r2 = max(Score.r2(truth: predMean, prediction: trueMean), 0)
        return (r2, rmse, mmd(pred: pred, truth: truth))
    }

    /// discrepancy-VAE's biased multi-bandwidth Gaussian MMD between the two sides of a block.
    public func mmd(pred: [UnsafePointer<Float>], truth: [UnsafePointer<Float>]) -> Double {
        let b = pred.count, n = 2 * b, g = cols
        for j in 0..<g { colMean[j] = 0 }
        for i in 0..<n {
            let src = i < b ? pred[i] : truth[i - b]
            for j in 0..<g { colMean[j] += Double(src[j]) }
        }
        for j in 0..<g { colMean[j] /= Double(n) }
        stacked.withUnsafeMutableBufferPointer { z in
            for i in 0..<n {
                let src = i < b ? pred[i] : truth[i - b]
                let dst = z.baseAddress! + i * g
                for j in 0..<g { dst[j] = Float(Double(src[j]) - colMean[j]) }
            }
            gram.withUnsafeMutableBufferPointer { gm in
                BLAS.gemm(transB: true, m: n, n: n, k: g, a: z.baseAddress!, lda: g, b: z.baseAddress!, ldb: g,
                          c: gm.baseAddress!, ldc: n)
            }
        }
        // Sum of the kernel over the four blocks with signs: +xx, +yy, −xy, −yx. exp(−d/bw_i) for bw_i = bw_0·2^i
        // is e^(2^(9−i)) with e = exp(−d/bw_9): one exp and repeated squaring per pair.
        let inv9 = 1 / BlockMetrics.bandwidths[9]
        var total = 0.0
        for i in 0..<n {
            let gii = Double(gram[i * n + i])
            for j in 0..<n {
                let d2 = i == j ? 0 : max(0, gii + Double(gram[j * n + j]) - 2 * Double(gram[i * n + j]))
                var e = exp(-d2 * inv9)
                var k = e
                for _ in 0..<9 { e *= e; k += e }
                total += ((i < b) == (j < b)) ? k : -k
            }
        }
        // torch.mean over the b x b sum XX + YY − XY − YX.
        return total / Double(b * b)
    }
}
