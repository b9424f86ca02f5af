import Foundation

/// The u-networks: from a label u ∈ {0,1}^K to the parameters of the response SCM — Λ_νν (packed strict lower
/// triangle), Λ_νι (d_ν × d_ι row-major), μ_ν and log β_ν. Evaluated once per distinct u in a batch: rows of `u`
/// [U, K] are the distinct labels, and every cell refers to one of them by index.
public final class UNetworks {
    let c: PVConfig
    let trunk: Linear?
    let hLnn, hLni, hMu, hLb: Linear
    public let u, t, dt: FloatBuffer
    public let lnn, lni, mu, lb: FloatBuffer
    public let dlnn, dlni, dmu, dlb: FloatBuffer
    let uIn: Int

    public init(_ s: ParamStore, _ c: PVConfig, maxU: Int) {
        self.c = c
        let H = c.hidden, K = c.targets, dN = c.latentResp, dI = c.latentInv
        trunk = c.uCompose == .mlp ? Linear(s, "utrunk", K, H) : nil
        uIn = c.uCompose == .mlp ? H : K
        hLnn = Linear(s, "ulnn", uIn, c.nL); hLni = Linear(s, "ulni", uIn, dN * dI)
        hMu = Linear(s, "umu", uIn, dN); hLb = Linear(s, "ulogbeta", uIn, dN)
        u = FloatBuffer(maxU * K); t = FloatBuffer(maxU * H); dt = FloatBuffer(maxU * H)
        lnn = FloatBuffer(maxU * c.nL); lni = FloatBuffer(maxU * dN * dI); mu = FloatBuffer(maxU * dN); lb = FloatBuffer(maxU * dN)
        dlnn = FloatBuffer(maxU * c.nL); dlni = FloatBuffer(maxU * dN * dI); dmu = FloatBuffer(maxU * dN); dlb = FloatBuffer(maxU * dN)
    }

    /// Sets row `i` of the label matrix to the indicator of `targets`.
    public func setLabel(_ i: Int, targets: [Int]) {
        let row = u.p + i * c.targets
        row.update(repeating: 0, count: c.targets)
        for k in targets { row[k] = 1 }
    }

    var input: UnsafeMutablePointer<Float> { trunk == nil ? u.p : t.p }

    public func forward(count n: Int) {
        if let trunk {
            trunk.forward(u.p, ldx: c.targets, rows: n, t.p, ldy: c.hidden)
            LeakyReLU.forward(t.p, rows: n, cols: c.hidden, ld: c.hidden)
        }
        hLnn.forward(input, ldx: uIn, rows: n, lnn.p, ldy: c.nL)
        hLni.forward(input, ldx: uIn, rows: n, lni.p, ldy: hLni.nOut)
        hMu.forward(input, ldx: uIn, rows: n, mu.p, ldy: c.latentResp)
        hLb.forward(input, ldx: uIn, rows: n, lb.p, ldy: c.latentResp)
    }

    /// Zeroes the output gradients before a backward pass accumulates into them.
    public func zeroGrads(count n: Int) {
        dlnn.p.update(repeating: 0, count: n * c.nL); dlni.p.update(repeating: 0, count: n * c.latentResp * c.latentInv)
        dmu.p.update(repeating: 0, count: n * c.latentResp); dlb.p.update(repeating: 0, count: n * c.latentResp)
    }

    public func backward(count n: Int) {
        let dx: UnsafeMutablePointer<Float>? = trunk == nil ? nil : dt.p
        hLnn.backward(input, ldx: uIn, dlnn.p, ldy: c.nL, rows: n, dx: dx, lddx: uIn, accumulate: false)
        hLni.backward(input, ldx: uIn, dlni.p, ldy: hLni.nOut, rows: n, dx: dx, lddx: uIn, accumulate: c.nL > 0)
        hMu.backward(input, ldx: uIn, dmu.p, ldy: c.latentResp, rows: n, dx: dx, lddx: uIn, accumulate: true)
        hLb.backward(input, ldx: uIn, dlb.p, ldy: c.latentResp, rows: n, dx: dx, lddx: uIn, accumulate: true)
        if let trunk {
            LeakyReLU.backward(t.p, ldy: c.hidden, dt.p, ldd: c.hidden, rows: n, cols: c.hidden)
            trunk.backward(u.p, ldx: c.targets, dt.p, ldy: c.hidden, rows: n, dx: nil, lddx: 0)
        }
    }
}
