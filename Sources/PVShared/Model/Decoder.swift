import Foundation

/// The decoder x̂ = f_dec([z_ν, z_ι]); it never sees u. `mlp`: d_ν+d_ι → H → H → G (linear output).
/// `additive`: x̂ = f_ι(z_ι) + Σ_j f_j(z_ν,j), with f_ι: d_ι → H → H → G and one small network 1 → S → G per
/// response node (all node hidden layers side by side, so the output is one product [rows, d_ν·S]·[d_ν·S, G]).
public final class Decoder {
    let c: PVConfig
    let l1, l2, l3: Linear
    let d1, d2, dd1, dd2: FloatBuffer
    // additive node networks
    let an, dan: FloatBuffer?
    let nW1, nb1, nW2, ndW1, ndb1, ndW2: UnsafeMutablePointer<Float>?
    let ldz: Int

    public init(_ s: ParamStore, _ c: PVConfig, maxRows: Int) {
        self.c = c
        let H = c.hidden, dN = c.latentResp, dI = c.latentInv, S = c.nodeHidden
        ldz = dN + dI
        if c.decoder == "mlp" {
            l1 = Linear(s, "dec1", dN + dI, H); l2 = Linear(s, "dec2", H, H); l3 = Linear(s, "dec3", H, c.genes)
            an = nil; dan = nil; nW1 = nil; nb1 = nil; nW2 = nil; ndW1 = nil; ndb1 = nil; ndW2 = nil
        } else {
            l1 = Linear(s, "decI1", dI, H); l2 = Linear(s, "decI2", H, H); l3 = Linear(s, "decI3", H, c.genes)
            an = FloatBuffer(maxRows * dN * S); dan = FloatBuffer(maxRows * dN * S)
            nW1 = s.param("decN1.W"); nb1 = s.param("decN1.b"); nW2 = s.param("decN2.W")
            ndW1 = s.grad("decN1.W"); ndb1 = s.grad("decN1.b"); ndW2 = s.grad("decN2.W")
        }
        d1 = FloatBuffer(maxRows * H); d2 = FloatBuffer(maxRows * H)
        dd1 = FloatBuffer(maxRows * H); dd2 = FloatBuffer(maxRows * H)
    }

    var additive: Bool { an != nil }

    /// z: rows of [z_ν, z_ι] (width d_ν+d_ι); xh: rows of G.
    public func forward(_ z: UnsafePointer<Float>, rows: Int, _ xh: UnsafeMutablePointer<Float>) {
        let H = c.hidden
        let zin = additive ? z + c.latentResp : z
        l1.forward(zin, ldx: ldz, rows: rows, d1.p, ldy: H)
        LeakyReLU.forward(d1.p, rows: rows, cols: H, ld: H)
        l2.forward(d1.p, ldx: H, rows: rows, d2.p, ldy: H)
        LeakyReLU.forward(d2.p, rows: rows, cols: H, ld: H)
        l3.forward(d2.p, ldx: H, rows: rows, xh, ldy: c.genes)
        if let an, let nW1, let nb1, let nW2 {
            let dN = c.latentResp, S = c.nodeHidden, w = dN * S
            for r in 0..<rows {
                let a = an.p + r * w, zr = z + r * ldz
                for j in 0..<dN {
                    for s in 0..<S {
                        let v = zr[j] * nW1[j * S + s] + nb1[j * S + s]
                        a[j * S + s] = v > 0 ? v : v * LeakyReLU.slope
                    }
                }
            }
            BLAS.gemm(m: rows, n: c.genes, k: w, a: an.p, lda: w, b: nW2, ldb: c.genes, beta: 1, c: xh, ldc: c.genes)
        }
    }

    /// dxh → parameter gradients and dz (rows of width d_ν+d_ι, overwritten).
    public func backward(_ z: UnsafePointer<Float>, rows: Int, _ dxh: UnsafePointer<Float>, dz: UnsafeMutablePointer<Float>) {
        let H = c.hidden
        l3.backward(d2.p, ldx: H, dxh, ldy: c.genes, rows: rows, dx: dd2.p, lddx: H)
        LeakyReLU.backward(d2.p, ldy: H, dd2.p, ldd: H, rows: rows, cols: H)
        l2.backward(d1.p, ldx: H, dd2.p, ldy: H, rows: rows, dx: dd1.p, lddx: H)
        LeakyReLU.backward(d1.p, ldy: H, dd1.p, ldd: H, rows: rows, cols: H)
        if let an, let dan, let nW1, let nW2, let ndW1, let ndb1, let ndW2 {
            let dN = c.latentResp, S = c.nodeHidden, w = dN * S
            l1.backward(z + dN, ldx: ldz, dd1.p, ldy: H, rows: rows, dx: dz + dN, lddx: ldz)
            BLAS.gemm(transA: true, m: w, n: c.genes, k: rows, a: an.p, lda: w, b: dxh, ldb: c.genes, beta: 1, c: ndW2, ldc: c.genes)
            BLAS.gemm(transB: true, m: rows, n: w, k: c.genes, a: dxh, lda: c.genes, b: nW2, ldb: c.genes, beta: 0, c: dan.p, ldc: w)
            for r in 0..<rows {
                let a = an.p + r * w, da = dan.p + r * w, zr = z + r * ldz, dzr = dz + r * ldz
                for j in 0..<dN {
                    var g: Float = 0
                    for s in 0..<S {
                        let k = j * S + s
                        let d = a[k] > 0 ? da[k] : da[k] * LeakyReLU.slope
                        ndW1[k] += d * zr[j]; ndb1[k] += d
                        g += d * nW1[k]
                    }
                    dzr[j] = g
                }
            }
        } else {
            l1.backward(z, ldx: ldz, dd1.p, ldy: H, rows: rows, dx: dz, lddx: ldz)
        }
    }
}
