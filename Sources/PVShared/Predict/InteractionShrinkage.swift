import Foundation

/// The arithmetic of `pv-predict --predict interaction` (bench/fidelity/NOTES.md, issue 14): how much of an
/// ensemble's interaction term f(A+B) − f(A) − f(B) + f(0) to add to the exact additive prediction.
public enum InteractionShrinkage {
    /// Empirical Bayes per gene. With member estimates I_m,g (m = 1..N), mean Ī_g and squared standard error
    /// v_g = var_m(I_m,g) / N (sample variance), a prior N(0, τ²) shared by the condition's genes with
    /// τ² = max(0, mean_g Ī_g² − mean_g v_g) gives the posterior mean Ī_g τ² / (τ² + v_g): genes where the members
    /// disagree shrink to additive. One member: no variance to shrink by, so the interaction is 0 (plain additive).
    public static func empiricalBayes(_ members: [[Double]]) -> (mean: [Double], shrunk: [Double], tau2: Double) {
        let N = members.count, G = members.first?.count ?? 0
        var mean = [Double](repeating: 0, count: G)
        for m in members { for g in 0..<G { mean[g] += m[g] } }
        for g in 0..<G { mean[g] /= Double(max(N, 1)) }
        guard N >= 2, G > 0 else { return (mean, [Double](repeating: 0, count: G), 0) }
        var v = [Double](repeating: 0, count: G)
        for m in members { for g in 0..<G { let d = m[g] - mean[g]; v[g] += d * d } }
        for g in 0..<G { v[g] /= Double(N - 1) * Double(N) }
        let tau2 = max(0, mean.reduce(0) { $0 + $1 * $1 } / Double(G) - v.reduce(0, +) / Double(G))
        let shrunk = (0..<G).map { g in tau2 + v[g] > 0 ? mean[g] * tau2 / (tau2 + v[g]) : 0 }
        return (mean, shrunk, tau2)
    }

    /// Least squares without intercept of y = κ·a + λ·I over every gene of every validation double (rows of the three
    /// lists are doubles, columns genes): a the exact additive change, I the ensemble's mean interaction term, y the
    /// true change, all from the control mean. When I carries no information of its own (collinear with a, or all
    /// zero) λ is 0 and κ the one-variable fit.
    public static func fitDampedInteraction(additive a: [[Double]], interaction I: [[Double]], truth y: [[Double]])
        -> (kappa: Double, lambda: Double) {
        var saa = 0.0, sai = 0.0, sii = 0.0, say = 0.0, siy = 0.0
        for d in a.indices {
            for g in a[d].indices {
                saa += a[d][g] * a[d][g]; sai += a[d][g] * I[d][g]; sii += I[d][g] * I[d][g]
                say += a[d][g] * y[d][g]; siy += I[d][g] * y[d][g]
            }
        }
        let det = saa * sii - sai * sai
        if det > 1e-12 * max(saa * sii, 1e-300) {
            return ((say * sii - siy * sai) / det, (saa * siy - sai * say) / det)
        }
        return (saa > 0 ? say / saa : 0, 0)
    }
}
