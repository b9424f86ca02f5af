import Foundation

/// Count distributions for simulated screens, drawn from pv's deterministic RNG so a seed fixes every count.
public enum CountSampler {
    /// Negative binomial with mean `mu` and inverse dispersion `theta` (variance mu + mu²/theta), the usual
    /// single-cell count model. Small means (the vast majority of entries) use CDF inversion with one uniform;
    /// larger ones the gamma–Poisson mixture.
    @inline(__always)
    public static func negativeBinomial(mu: Double, theta: Double, _ rng: inout RNG) -> Int {
        if mu <= 0 { return 0 }
        if mu < 30 {
            let q = mu / (theta + mu)
            var p = Foundation.exp(theta * Foundation.log1p(-q))
            var cdf = p
            let u = rng.uniform()
            var k = 0
            while u > cdf && k < 100_000 {
                p *= (Double(k) + theta) / Double(k + 1) * q
                if p < 1e-300 { break }
                cdf += p
                k += 1
            }
            return k
        }
        return poisson(gamma(shape: theta, &rng) * (mu / theta), &rng)
    }

    /// Gamma(shape, scale 1), Marsaglia–Tsang; shape < 1 via the U^(1/shape) boost.
    public static func gamma(shape: Double, _ rng: inout RNG) -> Double {
        if shape < 1 {
            var u = rng.uniform()
            while u <= 0 { u = rng.uniform() }
            return gamma(shape: shape + 1, &rng) * Foundation.pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3.0, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat { x = Double(rng.normal()); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = rng.uniform()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if u > 0, Foundation.log(u) < 0.5 * x * x + d * (1 - v + Foundation.log(v)) { return d * v }
        }
    }

    /// Poisson(lambda): inversion for small lambda, Hörmann's PTRS transformed rejection for lambda >= 10.
    public static func poisson(_ lambda: Double, _ rng: inout RNG) -> Int {
        if lambda <= 0 { return 0 }
        if lambda < 10 {
            var p = Foundation.exp(-lambda), cdf = p, k = 0
            let u = rng.uniform()
            while u > cdf && k < 1000 { k += 1; p *= lambda / Double(k); cdf += p }
            return k
        }
        let slam = lambda.squareRoot(), loglam = Foundation.log(lambda)
        let b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b
        let invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = rng.uniform() - 0.5, v = rng.uniform()
            let us = 0.5 - abs(u)
            let k = ((2 * a / us + b) * u + lambda + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return Int(k) }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if Foundation.log(v) + Foundation.log(invalpha) - Foundation.log(a / (us * us) + b)
                <= -lambda + k * loglam - Foundation.lgamma(k + 1) { return Int(k) }
        }
    }
}
