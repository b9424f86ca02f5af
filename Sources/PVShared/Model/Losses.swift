import Foundation

/// Mean squared error over all rows·cols entries (bench/reference/pvae.py: MSE is the mean over genes and cells).
public enum MSELoss {
    public static func forward(_ xh: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int) -> Double {
        guard rows > 0 else { return 0 }
        let total = Parallel.sum(rows, minChunk: 8) { r in Double(squaredDistance(xh + r * cols, x + r * cols, cols)) }
        return total / Double(rows * cols)
    }

    /// Σ_j (a_j − b_j)², eight lanes at a time (a fixed order: the same sum on every run).
    @inline(__always)
    static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var j = 0
        while j + 8 <= n {
            let e = UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self) - UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
            acc += e * e
            j += 8
        }
        var s = acc.sum()
        while j < n { let e = a[j] - b[j]; s += e * e; j += 1 }
        return s
    }

    /// The loss, and its gradient coef · 2(xh − x)/(rows·cols) written into dxh in the same pass over the rows (the
    /// training step's fused form: xh and x are read once).
    public static func forward(_ xh: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int, coef: Float,
                               gradient dxh: UnsafeMutablePointer<Float>) -> Double {
        guard rows > 0 else { return 0 }
        let g = coef * 2 / Float(rows * cols)
        let total = Parallel.sum(rows, minChunk: 8) { r in
            let a = xh + r * cols, b = x + r * cols, d = dxh + r * cols
            var acc = SIMD8<Float>()
            let gv = SIMD8<Float>(repeating: g)
            var j = 0
            while j + 8 <= cols {
                let e = UnsafeRawPointer(a + j).loadUnaligned(as: SIMD8<Float>.self) - UnsafeRawPointer(b + j).loadUnaligned(as: SIMD8<Float>.self)
                acc += e * e
                UnsafeMutableRawPointer(d + j).storeBytes(of: gv * e, as: SIMD8<Float>.self)
                j += 8
            }
            var s = acc.sum()
            while j < cols { let e = a[j] - b[j]; s += e * e; d[j] = g * e; j += 1 }
            return Double(s)
        }
        return total / Double(rows * cols)
    }

    /// dxh = coef · 2(xh − x)/(rows·cols) (overwrites).
    public static func backward(_ xh: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, cols: Int, coef: Float,
                                _ dxh: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        let s = coef * 2 / Float(rows * cols)
        Parallel.chunks(rows, minChunk: 8) { range in
            for i in (range.lowerBound * cols)..<(range.upperBound * cols) { dxh[i] = s * (xh[i] - x[i]) }
        }
    }
}

/// KL(N(μ, e^lv) ‖ N(0, e^lp)) summed over dims, averaged over rows. With no prior (`logPrior` nil) the prior is
/// N(0, I) (KL_ι); otherwise row r uses log-variances `logPrior + uIdx[r]·d` (KL_ν with log β_ν(u)).
public enum GaussianKL {
    public static func forward(mu: UnsafePointer<Float>, lv: UnsafePointer<Float>, ld: Int, rows: Int, d: Int,
                               logPrior: UnsafePointer<Float>?, uIdx: UnsafePointer<Int>?) -> Double {
        guard rows > 0 else { return 0 }
        let total = Parallel.sum(rows, minChunk: 16) { r in
            let m = mu + r * ld, v = lv + r * ld
            let lp = logPrior.map { $0 + uIdx![r] * d }
            var s = 0.0
            for j in 0..<d {
                let p = Double(lp?[j] ?? 0), lvj = Double(v[j]), mj = Double(m[j])
                s += 0.5 * (exp(lvj - p) + mj * mj * exp(-p) - 1 - lvj + p)
            }
            return s
        }
        return total / Double(rows)
    }

    /// Adds coef·∂KL/∂μ, ∂/∂lv and (when a prior is given) ∂/∂log-prior into dmu, dlv, dLogPrior.
    public static func backward(coef: Float, mu: UnsafePointer<Float>, lv: UnsafePointer<Float>, ld: Int, rows: Int, d: Int,
                                logPrior: UnsafePointer<Float>?, uIdx: UnsafePointer<Int>?,
                                dmu: UnsafeMutablePointer<Float>, dlv: UnsafeMutablePointer<Float>, ldd: Int,
                                dLogPrior: UnsafeMutablePointer<Float>?) {
        guard rows > 0, coef != 0 else { return }
        let s = coef / Float(rows)
        for r in 0..<rows {
            let m = mu + r * ld, v = lv + r * ld, gm = dmu + r * ldd, gv = dlv + r * ldd
            let off = logPrior == nil ? 0 : uIdx![r] * d
            for j in 0..<d {
                let p = logPrior?[off + j] ?? 0
                let ip = exp(-p)
                let ev = exp(v[j] - p)
                gm[j] += s * m[j] * ip
                gv[j] += s * 0.5 * (ev - 1)
                if let dp = dLogPrior { dp[off + j] += s * 0.5 * (1 - ev - m[j] * m[j] * ip) }
            }
        }
    }
}

/// A = mean over row pairs of ‖μ_ι − μ_ι0‖² (the alignment of the background of a cell and its control partner).
public enum AlignmentLoss {
    public static func forward(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ld: Int, rows: Int, d: Int) -> Double {
        guard rows > 0 else { return 0 }
        var total = 0.0
        for r in 0..<rows {
            var s: Float = 0
            for j in 0..<d { let e = a[r * ld + j] - b[r * ld + j]; s += e * e }
            total += Double(s)
        }
        return total / Double(rows)
    }

    /// Adds coef·∂A/∂a into da and coef·∂A/∂b into db.
    public static func backward(coef: Float, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ld: Int, rows: Int, d: Int,
                                da: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>, ldd: Int) {
        guard rows > 0, coef != 0 else { return }
        let s = 2 * coef / Float(rows)
        for r in 0..<rows {
            for j in 0..<d {
                let g = s * (a[r * ld + j] - b[r * ld + j])
                da[r * ldd + j] += g; db[r * ldd + j] -= g
            }
        }
    }
}

/// The reparameterisation z = μ + exp(lv/2)·ε and its backward pass.
public enum Reparam {
    public static func forward(mu: UnsafePointer<Float>, lv: UnsafePointer<Float>, ld: Int, eps: UnsafePointer<Float>, lde: Int,
                               rows: Int, d: Int, _ z: UnsafeMutablePointer<Float>, ldz: Int) {
        for r in 0..<rows {
            for j in 0..<d { z[r * ldz + j] = mu[r * ld + j] + exp(0.5 * lv[r * ld + j]) * eps[r * lde + j] }
        }
    }

    /// dmu = dz, dlv = dz·ε·exp(lv/2)/2 (overwrites).
    public static func backward(lv: UnsafePointer<Float>, ld: Int, eps: UnsafePointer<Float>, lde: Int, rows: Int, d: Int,
                                dz: UnsafePointer<Float>, lddz: Int,
                                dmu: UnsafeMutablePointer<Float>, dlv: UnsafeMutablePointer<Float>, ldd: Int) {
        for r in 0..<rows {
            for j in 0..<d {
                let g = dz[r * lddz + j]
                dmu[r * ldd + j] = g
                dlv[r * ldd + j] = g * eps[r * lde + j] * 0.5 * exp(0.5 * lv[r * ld + j])
            }
        }
    }
}
