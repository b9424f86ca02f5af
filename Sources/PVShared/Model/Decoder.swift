import Foundation

/// The decoder x̂ = f_dec([z_ν, z_ι]); it never sees u. Two architectures (`DecoderKind`), each a type:
/// `MLPDecoder` and `AdditiveDecoder`. `z` holds rows of [z_ν, z_ι] (width d_ν+d_ι), `xh` rows of G.
public protocol Decoder: AnyObject {
    /// z → x̂ for `rows` rows.
    func forward(_ z: UnsafePointer<Float>, rows: Int, _ xh: UnsafeMutablePointer<Float>)
    /// dx̂ → parameter gradients (accumulated) and dz (rows of width d_ν+d_ι, overwritten).
    func backward(_ z: UnsafePointer<Float>, rows: Int, _ dxh: UnsafePointer<Float>, dz: UnsafeMutablePointer<Float>)
}

/// The decoder `c.decoder` names, over the tensors of `s`.
public func makeDecoder(_ s: ParamStore, _ c: PVConfig, maxRows: Int) -> any Decoder {
    switch c.decoder {
    case .mlp: return MLPDecoder(s, c, maxRows: maxRows)
    case .additive: return AdditiveDecoder(s, c, maxRows: maxRows)
    }
}

/// in → H → H → G with leaky ReLUs after the first two layers and a linear output; input rows have stride `ldx`.
final class DecoderTrunk {
    let l1, l2, l3: Linear
    let H, G: Int
    /// Hidden activations after each leaky ReLU [rows, H], and their gradients.
    let h1, h2, dh1, dh2: FloatBuffer

    init(_ s: ParamStore, _ prefix: String, inputs: Int, hidden H: Int, genes G: Int, maxRows: Int) {
        self.H = H; self.G = G
        l1 = Linear(s, prefix + "1", inputs, H); l2 = Linear(s, prefix + "2", H, H); l3 = Linear(s, prefix + "3", H, G)
        h1 = FloatBuffer(maxRows * H); h2 = FloatBuffer(maxRows * H)
        dh1 = FloatBuffer(maxRows * H); dh2 = FloatBuffer(maxRows * H)
    }

    func forward(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, _ y: UnsafeMutablePointer<Float>) {
        l1.forward(x, ldx: ldx, rows: rows, h1.p, ldy: H)
        LeakyReLU.forward(h1.p, rows: rows, cols: H, ld: H)
        l2.forward(h1.p, ldx: H, rows: rows, h2.p, ldy: H)
        LeakyReLU.forward(h2.p, rows: rows, cols: H, ld: H)
        l3.forward(h2.p, ldx: H, rows: rows, y, ldy: G)
    }

    /// dy → parameter gradients and dx (rows of stride `lddx`, overwritten).
    func backward(_ x: UnsafePointer<Float>, ldx: Int, rows: Int, _ dy: UnsafePointer<Float>,
                  dx: UnsafeMutablePointer<Float>, lddx: Int) {
        l3.backward(h2.p, ldx: H, dy, ldy: G, rows: rows, dx: dh2.p, lddx: H)
        LeakyReLU.backward(h2.p, ldy: H, dh2.p, ldd: H, rows: rows, cols: H)
        l2.backward(h1.p, ldx: H, dh2.p, ldy: H, rows: rows, dx: dh1.p, lddx: H)
        LeakyReLU.backward(h1.p, ldy: H, dh1.p, ldd: H, rows: rows, cols: H)
        l1.backward(x, ldx: ldx, dh1.p, ldy: H, rows: rows, dx: dx, lddx: lddx)
    }
}

/// x̂ = f_dec([z_ν, z_ι]): d_ν+d_ι → H → H → G (tensors dec1, dec2, dec3).
public final class MLPDecoder: Decoder {
    let trunk: DecoderTrunk
    let ldz: Int

    public init(_ s: ParamStore, _ c: PVConfig, maxRows: Int) {
        ldz = c.latentResp + c.latentInv
        trunk = DecoderTrunk(s, "dec", inputs: ldz, hidden: c.hidden, genes: c.genes, maxRows: maxRows)
    }

    public func forward(_ z: UnsafePointer<Float>, rows: Int, _ xh: UnsafeMutablePointer<Float>) {
        trunk.forward(z, ldx: ldz, rows: rows, xh)
    }

    public func backward(_ z: UnsafePointer<Float>, rows: Int, _ dxh: UnsafePointer<Float>, dz: UnsafeMutablePointer<Float>) {
        trunk.backward(z, ldx: ldz, rows: rows, dxh, dx: dz, lddx: ldz)
    }
}

/// x̂ = f_ι(z_ι) + Σ_j f_j(z_ν,j), with f_ι: d_ι → H → H → G (tensors decI1-3) and one small network 1 → S → G per
/// response node (decN1.W, decN1.b [d_ν, S]; decN2.W [d_ν·S, G]). All node hidden layers sit side by side, so the
/// nodes' output is one product [rows, d_ν·S]·[d_ν·S, G].
public final class AdditiveDecoder: Decoder {
    let trunk: DecoderTrunk
    let dN, S, G, ldz: Int
    /// Node hidden activations a[r, j·S + s] = leaky(z_ν[r, j]·W1[j, s] + b1[j, s]) [rows, d_ν·S], and their gradient.
    let a, da: FloatBuffer
    let W1, b1, W2, dW1, db1, dW2: UnsafeMutablePointer<Float>

    public init(_ s: ParamStore, _ c: PVConfig, maxRows: Int) {
        dN = c.latentResp; S = c.nodeHidden; G = c.genes; ldz = c.latentResp + c.latentInv
        trunk = DecoderTrunk(s, "decI", inputs: c.latentInv, hidden: c.hidden, genes: c.genes, maxRows: maxRows)
        a = FloatBuffer(maxRows * dN * S); da = FloatBuffer(maxRows * dN * S)
        W1 = s.param("decN1.W"); b1 = s.param("decN1.b"); W2 = s.param("decN2.W")
        dW1 = s.grad("decN1.W"); db1 = s.grad("decN1.b"); dW2 = s.grad("decN2.W")
    }

    public func forward(_ z: UnsafePointer<Float>, rows: Int, _ xh: UnsafeMutablePointer<Float>) {
        trunk.forward(z + dN, ldx: ldz, rows: rows, xh)
        let w = dN * S
        for r in 0..<rows {
            let ar = a.p + r * w, zr = z + r * ldz
            for j in 0..<dN {
                for s in 0..<S {
                    let v = zr[j] * W1[j * S + s] + b1[j * S + s]
                    ar[j * S + s] = v > 0 ? v : v * LeakyReLU.slope
                }
            }
        }
        BLAS.gemm(m: rows, n: G, k: w, a: a.p, lda: w, b: W2, ldb: G, beta: 1, c: xh, ldc: G)
    }

    public func backward(_ z: UnsafePointer<Float>, rows: Int, _ dxh: UnsafePointer<Float>, dz: UnsafeMutablePointer<Float>) {
        let w = dN * S
        trunk.backward(z + dN, ldx: ldz, rows: rows, dxh, dx: dz + dN, lddx: ldz)
        BLAS.gemm(transA: true, m: w, n: G, k: rows, a: a.p, lda: w, b: dxh, ldb: G, beta: 1, c: dW2, ldc: G)
        BLAS.gemm(transB: true, m: rows, n: w, k: G, a: dxh, lda: G, b: W2, ldb: G, beta: 0, c: da.p, ldc: w)
        for r in 0..<rows {
            let ar = a.p + r * w, dar = da.p + r * w, zr = z + r * ldz, dzr = dz + r * ldz
            for j in 0..<dN {
                var g: Float = 0
                for s in 0..<S {
                    let k = j * S + s
                    let d = ar[k] > 0 ? dar[k] : dar[k] * LeakyReLU.slope
                    dW1[k] += d * zr[j]; db1[k] += d
                    g += d * W1[k]
                }
                dzr[j] = g
            }
        }
    }
}
