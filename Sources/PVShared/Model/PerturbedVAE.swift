import Foundation

/// An index buffer allocated once (labels of batch rows).
public final class IntBuffer {
    public let count: Int
    public let p: UnsafeMutablePointer<Int>
    public init(_ n: Int) { count = n; p = .allocate(capacity: max(n, 1)); p.initialize(repeating: 0, count: max(n, 1)) }
    deinit { p.deallocate() }
}

/// The loss terms of one batch (MODEL_SPEC.md).
public struct LossTerms {
    public var loss = 0.0, mse = 0.0, mse0 = 0.0, klResp = 0.0, klResp0 = 0.0, klInv = 0.0, klInv0 = 0.0, align = 0.0
    public init() {}
    public var named: [(String, Double)] {
        [("loss", loss), ("mse", mse), ("mse0", mse0), ("kl_resp", klResp), ("kl_resp0", klResp0),
         ("kl_inv", klInv), ("kl_inv0", klInv0), ("align", align)]
    }
}

/// PerturbedVAE (DESIGN.md §5) over preallocated buffers: encoder, background head g_ι, response head g_ν,
/// u-networks, unit lower-triangular solve, decoder, and the loss. A batch holds `n1` perturbed rows followed by
/// `n2` control rows (row i is paired with row n1+i for the alignment term). The caller fills `x`, `uIdx`,
/// the label rows of `unets.u`, and the noises `epsInv`, `epsResp`, then calls `forward` and `backward`.
public final class PerturbedVAE {
    public let cfg: PVConfig
    public let store: ParamStore
    public let maxRows: Int
    public let encoder: Encoder
    public let resp: ResponseHead
    public let unets: UNetworks
    public let decoder: any Decoder
    let inv: Linear

    public let x, xh, dxh: FloatBuffer
    public let epsInv, epsResp: FloatBuffer
    public let uIdx: IntBuffer
    /// [h, u] rows (width H+K) and their gradient.
    public let hu, dhu: FloatBuffer
    /// Background head output [μ_ι, logvar_ι] rows (width 2·d_ι) and gradient.
    public let p, dp: FloatBuffer
    let dq: FloatBuffer
    /// ñ (response noise sample), c = ñ + Λ_νι z_ι + μ_ν, and dc.
    let nt, cbuf, dc: FloatBuffer
    /// z = [z_ν, z_ι] rows (width d_ν+d_ι) and gradient.
    public let z, dz: FloatBuffer

    var n1 = 0, n2 = 0, nU = 0

    public init(config: PVConfig, maxRows: Int) {
        cfg = config
        self.maxRows = maxRows
        store = ParamStore(config.tensors)
        let R = maxRows, G = config.genes, H = config.hidden, K = config.targets, dI = config.latentInv, dN = config.latentResp
        encoder = Encoder(store, config, maxRows: R)
        inv = Linear(store, "inv", H, 2 * dI)
        resp = ResponseHead(store, config, maxRows: R)
        unets = UNetworks(store, config, maxU: R + 1)
        decoder = makeDecoder(store, config, maxRows: R)
        x = FloatBuffer(R * G); xh = FloatBuffer(R * G); dxh = FloatBuffer(R * G)
        epsInv = FloatBuffer(R * dI); epsResp = FloatBuffer(R * dN)
        uIdx = IntBuffer(R)
        hu = FloatBuffer(R * (H + K)); dhu = FloatBuffer(R * (H + K))
        p = FloatBuffer(R * 2 * dI); dp = FloatBuffer(R * 2 * dI)
        dq = FloatBuffer(R * 2 * dN)
        nt = FloatBuffer(R * dN); cbuf = FloatBuffer(R * dN); dc = FloatBuffer(R * dN)
        z = FloatBuffer(R * (dN + dI)); dz = FloatBuffer(R * (dN + dI))
    }

    var ldhu: Int { cfg.hidden + cfg.targets }
    var ldz: Int { cfg.latentResp + cfg.latentInv }

    /// Encoder, background head and u-networks for `rows` rows and `labels` distinct labels; fills [h,u] and p.
    private func encode(rows: Int, labels: Int) {
        let H = cfg.hidden, K = cfg.targets
        encoder.forward(x.p, rows: rows, h: hu.p, ldh: ldhu)
        for r in 0..<rows { (hu.p + r * ldhu + H).update(from: unets.u.p + uIdx.p[r] * K, count: K) }
        inv.forward(hu.p, ldx: ldhu, rows: rows, p.p, ldy: 2 * cfg.latentInv)
        unets.forward(count: labels)
    }

    /// c = ñ + Λ_νι(u) z_ι + μ_ν(u), then z_ν = (I − Λ_νν(u))⁻¹ c into z.
    private func solveResponse(rows: Int) {
        let dN = cfg.latentResp, dI = cfg.latentInv
        for r in 0..<rows {
            let u = uIdx.p[r]
            let cr = cbuf.p + r * dN, nr = nt.p + r * dN, m = unets.mu.p + u * dN
            for j in 0..<dN { cr[j] = nr[j] + m[j] }
            BLAS.gemv(rows: dN, cols: dI, a: unets.lni.p + u * dN * dI, lda: dI, x: z.p + r * ldz + dN, beta: 1, y: cr)
        }
        TriangularSolve.forward(cbuf.p, ldc: dN, z.p, ldz: ldz, rows: rows, d: dN, lnn: unets.lnn.p, uIdx: uIdx.p)
    }

    /// The training forward pass and loss with KL weight `beta` and alignment weight `alpha`.
    @discardableResult
    public func forward(n1: Int, n2: Int, labels: Int, beta: Float, alpha: Float) -> LossTerms {
        self.n1 = n1; self.n2 = n2; nU = labels
        let R = n1 + n2, G = cfg.genes, dI = cfg.latentInv, dN = cfg.latentResp
        precondition(R <= maxRows && R > 0)
        encode(rows: R, labels: labels)
        Reparam.forward(mu: p.p, lv: p.p + dI, ld: 2 * dI, eps: epsInv.p, lde: dI, rows: R, d: dI, z.p + dN, ldz: ldz)
        resp.forward(hu.p, rows: R)
        let q = resp.q.p
        Reparam.forward(mu: q, lv: q + dN, ld: 2 * dN, eps: epsResp.p, lde: dN, rows: R, d: dN, nt.p, ldz: dN)
        solveResponse(rows: R)
        decoder.forward(z.p, rows: R, xh.p)
        var t = LossTerms()
        t.mse = MSELoss.forward(xh.p, x.p, rows: n1, cols: G)
        t.mse0 = MSELoss.forward(xh.p + n1 * G, x.p + n1 * G, rows: n2, cols: G)
        t.klResp = GaussianKL.forward(mu: q, lv: q + dN, ld: 2 * dN, rows: n1, d: dN, logPrior: unets.lb.p, uIdx: uIdx.p)
        t.klResp0 = GaussianKL.forward(mu: q + n1 * 2 * dN, lv: q + n1 * 2 * dN + dN, ld: 2 * dN, rows: n2, d: dN,
                                       logPrior: unets.lb.p, uIdx: uIdx.p + n1)
        t.klInv = GaussianKL.forward(mu: p.p, lv: p.p + dI, ld: 2 * dI, rows: n1, d: dI, logPrior: nil, uIdx: nil)
        t.klInv0 = GaussianKL.forward(mu: p.p + n1 * 2 * dI, lv: p.p + n1 * 2 * dI + dI, ld: 2 * dI, rows: n2, d: dI,
                                      logPrior: nil, uIdx: nil)
        if n1 == n2 { t.align = AlignmentLoss.forward(p.p, p.p + n1 * 2 * dI, ld: 2 * dI, rows: n1, d: dI) }
        t.loss = t.mse + t.mse0 + Double(beta) * (t.klResp + t.klResp0 + t.klInv + t.klInv0) + Double(alpha) * t.align
        return t
    }

    /// Gradients of the last `forward`'s loss, added into `store.grads` (zero them first for one batch).
    public func backward(beta: Float, alpha: Float) {
        let R = n1 + n2, G = cfg.genes, dI = cfg.latentInv, dN = cfg.latentResp, H = cfg.hidden
        MSELoss.backward(xh.p, x.p, rows: n1, cols: G, coef: 1, dxh.p)
        MSELoss.backward(xh.p + n1 * G, x.p + n1 * G, rows: n2, cols: G, coef: 1, dxh.p + n1 * G)
        decoder.backward(z.p, rows: R, dxh.p, dz: dz.p)
        unets.zeroGrads(count: nU)
        TriangularSolve.backward(z.p, ldz: ldz, dz.p, lddz: ldz, dc.p, lddc: dN, rows: R, d: dN,
                                 lnn: unets.lnn.p, dlnn: unets.dlnn.p, uIdx: uIdx.p)
        for r in 0..<R {
            let u = uIdx.p[r]
            let dcr = dc.p + r * dN, dm = unets.dmu.p + u * dN, zi = z.p + r * ldz + dN
            for j in 0..<dN { dm[j] += dcr[j] }
            // dΛ_νι += dc ⊗ z_ι ; dz_ι += Λ_νιᵀ dc
            BLAS.gemm(m: dN, n: dI, k: 1, a: dcr, lda: 1, b: zi, ldb: dI, beta: 1, c: unets.dlni.p + u * dN * dI, ldc: dI)
            BLAS.gemv(trans: true, rows: dN, cols: dI, a: unets.lni.p + u * dN * dI, lda: dI, x: dcr, beta: 1, y: dz.p + r * ldz + dN)
        }
        let q = resp.q.p
        Reparam.backward(lv: q + dN, ld: 2 * dN, eps: epsResp.p, lde: dN, rows: R, d: dN, dz: dc.p, lddz: dN,
                         dmu: dq.p, dlv: dq.p + dN, ldd: 2 * dN)
        GaussianKL.backward(coef: beta, mu: q, lv: q + dN, ld: 2 * dN, rows: n1, d: dN, logPrior: unets.lb.p, uIdx: uIdx.p,
                            dmu: dq.p, dlv: dq.p + dN, ldd: 2 * dN, dLogPrior: unets.dlb.p)
        let o = n1 * 2 * dN
        GaussianKL.backward(coef: beta, mu: q + o, lv: q + o + dN, ld: 2 * dN, rows: n2, d: dN, logPrior: unets.lb.p, uIdx: uIdx.p + n1,
                            dmu: dq.p + o, dlv: dq.p + o + dN, ldd: 2 * dN, dLogPrior: unets.dlb.p)
        unets.backward(count: nU)
        resp.backward(hu.p, rows: R, dq: dq.p, dhu: dhu.p)
        Reparam.backward(lv: p.p + dI, ld: 2 * dI, eps: epsInv.p, lde: dI, rows: R, d: dI, dz: dz.p + dN, lddz: ldz,
                         dmu: dp.p, dlv: dp.p + dI, ldd: 2 * dI)
        GaussianKL.backward(coef: beta, mu: p.p, lv: p.p + dI, ld: 2 * dI, rows: n1, d: dI, logPrior: nil, uIdx: nil,
                            dmu: dp.p, dlv: dp.p + dI, ldd: 2 * dI, dLogPrior: nil)
        let oi = n1 * 2 * dI
        GaussianKL.backward(coef: beta, mu: p.p + oi, lv: p.p + oi + dI, ld: 2 * dI, rows: n2, d: dI, logPrior: nil, uIdx: nil,
                            dmu: dp.p + oi, dlv: dp.p + oi + dI, ldd: 2 * dI, dLogPrior: nil)
        if n1 == n2 {
            AlignmentLoss.backward(coef: alpha, p.p, p.p + oi, ld: 2 * dI, rows: n1, d: dI, da: dp.p, db: dp.p + oi, ldd: 2 * dI)
        }
        inv.backward(hu.p, ldx: ldhu, dp.p, ldy: 2 * dI, rows: R, dx: dhu.p, lddx: ldhu, accumulate: true)
        encoder.backward(x.p, rows: R, h: hu.p, ldh: ldhu, dh: dhu.p, lddh: ldhu)
        _ = H
    }

    /// Prediction from the prior for `rows` rows (x holds control cells, uIdx their target labels, epsResp standard
    /// normals): z_ι = μ_ι(x0), n = sqrt(β_ν(u))·ε, z_ν = A(u)⁻¹(n + Λ_νι z_ι + μ_ν), x̂ = f_dec([z_ν, z_ι]) into xh.
    /// With `reuseEncoding` the encoder pass of the previous call is kept (x must hold the same rows, and no other
    /// pass may have run in between): only the u-networks and the decoder run, for other labels of the same cells.
    public func predictPrior(rows: Int, labels: Int, reuseEncoding: Bool = false) {
        let dI = cfg.latentInv, dN = cfg.latentResp
        if reuseEncoding { unets.forward(count: labels) } else { encode(rows: rows, labels: labels) }
        for r in 0..<rows {
            (z.p + r * ldz + dN).update(from: p.p + r * 2 * dI, count: dI)
            let lb = unets.lb.p + uIdx.p[r] * dN
            for j in 0..<dN { nt.p[r * dN + j] = exp(0.5 * lb[j]) * epsResp.p[r * dN + j] }
        }
        solveResponse(rows: rows)
        decoder.forward(z.p, rows: rows, xh.p)
    }

    /// Posterior means for `rows` rows with their labels: μ_ι into p (first d_ι columns of each 2·d_ι row) and
    /// z_ν (with ñ = μ') into the first d_ν columns of z. Also reconstructs into xh.
    public func posteriorMeans(rows: Int, labels: Int) {
        epsInv.p.update(repeating: 0, count: rows * cfg.latentInv)
        epsResp.p.update(repeating: 0, count: rows * cfg.latentResp)
        forward(n1: rows, n2: 0, labels: labels, beta: 0, alpha: 0)
    }
}
