import Foundation

/// Adam (Kingma & Ba) as one fused pass over the flat parameter and gradient buffers, with bias correction.
/// Moments live in two flat buffers of the same layout, so a checkpoint stores them as two arrays.
public final class Adam {
    public var lr: Float
    public let beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8
    public let m, v: FloatBuffer
    /// Number of updates applied so far (for bias correction; restored from checkpoints).
    public var t = 0

    public init(count: Int, lr: Float) { self.lr = lr; m = FloatBuffer(count); v = FloatBuffer(count) }

    public func step(params: FloatBuffer, grads: FloatBuffer) {
        t += 1
        let b1 = beta1, b2 = beta2, e = eps
        let c1 = 1 - Float(pow(Double(b1), Double(t))), c2 = 1 - Float(pow(Double(b2), Double(t)))
        let a = lr / c1, rc2 = 1 / c2.squareRoot()
        let p = params.p, g = grads.p, m = m.p, v = v.p
        Parallel.chunks(params.count, minChunk: 1 << 16) { range in
            // Eight lanes at a time (the scalar loop does not vectorise: sqrt and divide per element), then the tail.
            var i = range.lowerBound
            let b1v = SIMD8<Float>(repeating: b1), b2v = SIMD8<Float>(repeating: b2)
            let o1 = SIMD8<Float>(repeating: 1 - b1), o2 = SIMD8<Float>(repeating: 1 - b2)
            let av = SIMD8<Float>(repeating: a), rv = SIMD8<Float>(repeating: rc2), ev = SIMD8<Float>(repeating: e)
            while i + 8 <= range.upperBound {
                let gi = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
                let mi = b1v * UnsafeRawPointer(m + i).loadUnaligned(as: SIMD8<Float>.self) + o1 * gi
                let vi = b2v * UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Float>.self) + o2 * gi * gi
                let pi = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) - av * mi / (vi.squareRoot() * rv + ev)
                UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(p + i).storeBytes(of: pi, as: SIMD8<Float>.self)
                i += 8
            }
            while i < range.upperBound {
                let gi = g[i]
                let mi = b1 * m[i] + (1 - b1) * gi
                let vi = b2 * v[i] + (1 - b2) * gi * gi
                m[i] = mi; v[i] = vi
                p[i] -= a * mi / (vi.squareRoot() * rc2 + e)
                i += 1
            }
        }
    }
}
