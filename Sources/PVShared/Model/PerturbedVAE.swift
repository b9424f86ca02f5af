import Foundation

/// An index buffer allocated once (labels of batch rows).
public final class IntBuffer {
    public let count: Int
    public let p: UnsafeMutablePointer<Int>
    public init(_ n: Int) { count = n; p = .allocate(capacity: max(n, 1)); p.initialize(repeating: 0, count: max(n, 1)) }
    deinit { p.deallocate() }
}

/// The loss terms of one batch (bench/reference/pvae.py).
public struct LossTerms {
    public var loss = 0.0, mse = 0.0, mse0 = 0.0, klResp = 0.0, klResp0 = 0.0, klInv = 0.0, klInv0 = 0.0, align = 0.0
    public init() {}
    public var named: [(String, Double)] {
        [("loss", loss), ("mse", mse), ("mse0", mse0), ("kl_resp", klResp), ("kl_resp0", klResp0),
         ("kl_inv", klInv), ("kl_inv0", klInv0), ("align", align)]
    }
}

/// Every activation of a PerturbedVAE batch and its gradient, allocated once for `R` = maxRows rows (as llm.c keeps
/// a model's activations in one struct). Rows [0, n1) are perturbed cells, rows [n1, n1+n2) their control partners
/// (row i pairs with row n1+i); `perturbed`/`control` give those halves of any row-major buffer. Notation as
/// DESIGN.md §5: G genes, K targets, H hidden, d_ι = latentInv, d_ν = latentResp. The encoder's, response head's,
/// u-networks' and decoder's internal activations live in those blocks.
public struct Activations {
    /// Expression rows, input. [R, G]
    public let x: FloatBuffer
    /// Reconstruction x̂ = f_dec(z) and its gradient. [R, G]
    public let xHat, dxHat: FloatBuffer
    /// Standard normal noise of the background and response reparameterisations, input. [R, d_ι], [R, d_ν]
    public let epsInv, epsResp: FloatBuffer
    /// Label slot of each row (row of the u-networks' outputs; 0 = control). [R]
    public let uIdx: IntBuffer
    /// [h, u]: encoder output h beside the row's perturbation vector u, the response head's input, and gradient. [R, H+K]
    public let hu, dhu: FloatBuffer
    /// Background head g_ι(h) = [μ_ι, logvar_ι] and its gradient. [R, 2·d_ι]
    public let inv, dInv: FloatBuffer
    /// Gradient of the response head's output [μ', logvar'] (the output lives in `ResponseHead.q`). [R, 2·d_ν]
    public let dResp: FloatBuffer
    /// ñ = μ' + exp(logvar'/2)·ε_ν, the response noise sample. [R, d_ν]
    public let nTilde: FloatBuffer
    /// c = ñ + Λ_νι(u) z_ι + μ_ν(u), the right-hand side of (I − Λ_νν(u)) z_ν = c, and its gradient. [R, d_ν]
    public let c, dc: FloatBuffer
    /// z = [z_ν, z_ι], the decoder's input, and its gradient. [R, d_ν + d_ι]
    public let z, dz: FloatBuffer
    /// Rows grouped by label slot, for the backward pass of the response SCM.
    let groups: LabelGroups

    init(_ cfg: PVConfig, rows R: Int) {
        let G = cfg.genes, H = cfg.hidden, K = cfg.targets, dI = cfg.latentInv, dN = cfg.latentResp
        x = FloatBuffer(R * G); xHat = FloatBuffer(R * G); dxHat = FloatBuffer(R * G)
        epsInv = FloatBuffer(R * dI); epsResp = FloatBuffer(R * dN)
        uIdx = IntBuffer(R)
        hu = FloatBuffer(R * (H + K)); dhu = FloatBuffer(R * (H + K))
        inv = FloatBuffer(R * 2 * dI); dInv = FloatBuffer(R * 2 * dI)
        dResp = FloatBuffer(R * 2 * dN)
        nTilde = FloatBuffer(R * dN); c = FloatBuffer(R * dN); dc = FloatBuffer(R * dN)
        z = FloatBuffer(R * (dN + dI)); dz = FloatBuffer(R * (dN + dI))
        groups = LabelGroups(maxRows: R, maxLabels: R + 1)
    }
}

/// The perturbed rows [0, n1) and the control rows [n1, n1+n2) of a row-major buffer with `width` columns.
struct Halves {
    let perturbed, control: UnsafeMutablePointer<Float>
    init(_ p: UnsafeMutablePointer<Float>, n1: Int, width: Int) { perturbed = p; control = p + n1 * width }
}

/// The mean and log-variance columns of rows [μ, logvar] of width 2·d, starting at `p`.
struct Gaussian {
    let mu, logvar: UnsafeMutablePointer<Float>
    let ld: Int
    init(_ p: UnsafeMutablePointer<Float>, d: Int) { mu = p; logvar = p + d; ld = 2 * d }
}

/// PerturbedVAE (DESIGN.md §5) over preallocated buffers: encoder, background head g_ι, response head g_ν,
/// u-networks, unit lower-triangular solve, decoder, and the loss. A batch holds `n1` perturbed rows followed by
/// `n2` control rows (row i is paired with row n1+i for the alignment term). The caller fills `act.x`, `act.uIdx`,
/// the label rows of `unets.u`, and the noises `act.epsInv`, `act.epsResp`, then calls `forward` and `backward`.
public final class PerturbedVAE {
    public let cfg: PVConfig
    public let store: ParamStore
    public let maxRows: Int
    public let encoder: Encoder
    public let resp: ResponseHead
    public let unets: UNetworks
    public let decoder: any Decoder
    let inv: Linear

    /// Every activation of a batch (see `Activations`).
    public let act: Activations
    /// The buffers a caller fills and reads, by their names in `act`.
    public var x: FloatBuffer { act.x }
    public var xh: FloatBuffer { act.xHat }
    public var epsInv: FloatBuffer { act.epsInv }
    public var epsResp: FloatBuffer { act.epsResp }
    public var uIdx: IntBuffer { act.uIdx }
    public var z: FloatBuffer { act.z }
    /// The background head's output [μ_ι, logvar_ι] (`act.inv`).
    public var p: FloatBuffer { act.inv }

    var n1 = 0, n2 = 0, nU = 0

    public init(config: PVConfig, maxRows: Int) {
        cfg = config
        self.maxRows = maxRows
        store = ParamStore(config.tensors)
        let R = maxRows, H = config.hidden, dI = config.latentInv
        encoder = Encoder(store, config, maxRows: R)
        inv = Linear(store, "inv", H, 2 * dI)
        resp = ResponseHead(store, config, maxRows: R)
        unets = UNetworks(store, config, maxU: R + 1)
        decoder = makeDecoder(store, config, maxRows: R)
        act = Activations(config, rows: R)
    }

    var ldhu: Int { cfg.hidden + cfg.targets }
    var ldz: Int { cfg.latentResp + cfg.latentInv }

    /// Encoder, background head and u-networks for `rows` rows and `labels` distinct labels; fills [h, u] and the
    /// background head's output.
    private func encode(rows: Int, labels: Int) {
        let a = act, H = cfg.hidden, K = cfg.targets
        encoder.forward(a.x.p, rows: rows, h: a.hu.p, ldh: ldhu)
        for r in 0..<rows { (a.hu.p + r * ldhu + H).update(from: unets.u.p + a.uIdx.p[r] * K, count: K) }
        inv.forward(a.hu.p, ldx: ldhu, rows: rows, a.inv.p, ldy: 2 * cfg.latentInv)
        unets.forward(count: labels)
    }

    /// c = ñ + Λ_νι(u) z_ι + μ_ν(u), then z_ν = (I − Λ_νν(u))⁻¹ c into z.
    private func solveResponse(rows: Int) {
        let a = act
        ResponseSCM.forward(rows: rows, dN: cfg.latentResp, dI: cfg.latentInv, nTilde: a.nTilde.p, c: a.c.p, z: a.z.p,
                            ldz: ldz, uIdx: a.uIdx.p, unets: unets)
    }

    /// The training forward pass and loss with KL weight `beta` and alignment weight `alpha`.
    @discardableResult
    public func forward(n1: Int, n2: Int, labels: Int, beta: Float, alpha: Float) -> LossTerms {
        self.n1 = n1; self.n2 = n2; nU = labels
        let a = act, R = n1 + n2, G = cfg.genes, dI = cfg.latentInv, dN = cfg.latentResp
        precondition(R <= maxRows && R > 0)
        encode(rows: R, labels: labels)
        let gInv = Gaussian(a.inv.p, d: dI), gResp = Gaussian(resp.q.p, d: dN)
        Reparam.forward(mu: gInv.mu, lv: gInv.logvar, ld: gInv.ld, eps: a.epsInv.p, lde: dI, rows: R, d: dI, a.z.p + dN, ldz: ldz)
        resp.forward(a.hu.p, rows: R)
        Reparam.forward(mu: gResp.mu, lv: gResp.logvar, ld: gResp.ld, eps: a.epsResp.p, lde: dN, rows: R, d: dN, a.nTilde.p, ldz: dN)
        solveResponse(rows: R)
        decoder.forward(a.z.p, rows: R, a.xHat.p)
        let x = Halves(a.x.p, n1: n1, width: G), xh = Halves(a.xHat.p, n1: n1, width: G)
        let dxh = Halves(a.dxHat.p, n1: n1, width: G)
        let qP = Gaussian(Halves(resp.q.p, n1: n1, width: 2 * dN).perturbed, d: dN)
        let qC = Gaussian(Halves(resp.q.p, n1: n1, width: 2 * dN).control, d: dN)
        let pP = Gaussian(Halves(a.inv.p, n1: n1, width: 2 * dI).perturbed, d: dI)
        let pC = Gaussian(Halves(a.inv.p, n1: n1, width: 2 * dI).control, d: dI)
        var t = LossTerms()
        // The reconstruction gradient is written here, in the same pass as the loss (backward starts from it).
        t.mse = MSELoss.forward(xh.perturbed, x.perturbed, rows: n1, cols: G, coef: 1, gradient: dxh.perturbed)
        t.mse0 = MSELoss.forward(xh.control, x.control, rows: n2, cols: G, coef: 1, gradient: dxh.control)
        t.klResp = GaussianKL.forward(mu: qP.mu, lv: qP.logvar, ld: qP.ld, rows: n1, d: dN, logPrior: unets.lb.p, uIdx: a.uIdx.p)
        t.klResp0 = GaussianKL.forward(mu: qC.mu, lv: qC.logvar, ld: qC.ld, rows: n2, d: dN, logPrior: unets.lb.p,
                                       uIdx: a.uIdx.p + n1)
        t.klInv = GaussianKL.forward(mu: pP.mu, lv: pP.logvar, ld: pP.ld, rows: n1, d: dI, logPrior: nil, uIdx: nil)
        t.klInv0 = GaussianKL.forward(mu: pC.mu, lv: pC.logvar, ld: pC.ld, rows: n2, d: dI, logPrior: nil, uIdx: nil)
        if n1 == n2 { t.align = AlignmentLoss.forward(pP.mu, pC.mu, ld: pP.ld, rows: n1, d: dI) }
        t.loss = t.mse + t.mse0 + Double(beta) * (t.klResp + t.klResp0 + t.klInv + t.klInv0) + Double(alpha) * t.align
        return t
    }

    /// Gradients of the last `forward`'s loss, added into `store.grads` (zero them first for one batch).
    public func backward(beta: Float, alpha: Float) {
        let a = act, R = n1 + n2, dI = cfg.latentInv, dN = cfg.latentResp
        // dx̂ was written by forward (fused with the MSE).
        decoder.backward(a.z.p, rows: R, a.dxHat.p, dz: a.dz.p)
        unets.zeroGrads(count: nU)
        a.groups.build(a.uIdx.p, rows: R, labels: nU)
        ResponseSCM.backward(groups: a.groups, dN: dN, dI: dI, z: a.z.p, dz: a.dz.p, ldz: ldz, dc: a.dc.p, unets: unets)
        // Response head: reparameterisation, then the KL of each half against the prior N(0, β_ν(u)).
        let q = Halves(resp.q.p, n1: n1, width: 2 * dN), dq = Halves(a.dResp.p, n1: n1, width: 2 * dN)
        let qAll = Gaussian(q.perturbed, d: dN), dqAll = Gaussian(dq.perturbed, d: dN)
        Reparam.backward(lv: qAll.logvar, ld: qAll.ld, eps: a.epsResp.p, lde: dN, rows: R, d: dN, dz: a.dc.p, lddz: dN,
                         dmu: dqAll.mu, dlv: dqAll.logvar, ldd: dqAll.ld)
        func klResp(_ rows: Int, _ g: Gaussian, _ dg: Gaussian, _ idx: UnsafeMutablePointer<Int>) {
            GaussianKL.backward(coef: beta, mu: g.mu, lv: g.logvar, ld: g.ld, rows: rows, d: dN, logPrior: unets.lb.p, uIdx: idx,
                                dmu: dg.mu, dlv: dg.logvar, ldd: dg.ld, dLogPrior: unets.dlb.p)
        }
        klResp(n1, Gaussian(q.perturbed, d: dN), Gaussian(dq.perturbed, d: dN), a.uIdx.p)
        klResp(n2, Gaussian(q.control, d: dN), Gaussian(dq.control, d: dN), a.uIdx.p + n1)
        unets.backward(count: nU)
        resp.backward(a.hu.p, rows: R, dq: a.dResp.p, dhu: a.dhu.p)
        // Background head: reparameterisation, KL of each half against N(0, I), alignment of the pairs' means.
        let p = Halves(a.inv.p, n1: n1, width: 2 * dI), dp = Halves(a.dInv.p, n1: n1, width: 2 * dI)
        let pAll = Gaussian(p.perturbed, d: dI), dpAll = Gaussian(dp.perturbed, d: dI)
        Reparam.backward(lv: pAll.logvar, ld: pAll.ld, eps: a.epsInv.p, lde: dI, rows: R, d: dI, dz: a.dz.p + dN, lddz: ldz,
                         dmu: dpAll.mu, dlv: dpAll.logvar, ldd: dpAll.ld)
        func klInv(_ rows: Int, _ g: Gaussian, _ dg: Gaussian) {
            GaussianKL.backward(coef: beta, mu: g.mu, lv: g.logvar, ld: g.ld, rows: rows, d: dI, logPrior: nil, uIdx: nil,
                                dmu: dg.mu, dlv: dg.logvar, ldd: dg.ld, dLogPrior: nil)
        }
        klInv(n1, Gaussian(p.perturbed, d: dI), Gaussian(dp.perturbed, d: dI))
        klInv(n2, Gaussian(p.control, d: dI), Gaussian(dp.control, d: dI))
        if n1 == n2 {
            AlignmentLoss.backward(coef: alpha, p.perturbed, p.control, ld: 2 * dI, rows: n1, d: dI, da: dp.perturbed,
                                   db: dp.control, ldd: 2 * dI)
        }
        inv.backward(a.hu.p, ldx: ldhu, a.dInv.p, ldy: 2 * dI, rows: R, dx: a.dhu.p, lddx: ldhu, accumulate: true)
        encoder.backward(a.x.p, rows: R, h: a.hu.p, ldh: ldhu, dh: a.dhu.p, lddh: ldhu)
    }

    /// Prediction from the prior for `rows` rows (x holds control cells, uIdx their target labels, epsResp standard
    /// normals): z_ι = μ_ι(x0), n = sqrt(β_ν(u))·ε, z_ν = A(u)⁻¹(n + Λ_νι z_ι + μ_ν), x̂ = f_dec([z_ν, z_ι]) into xh.
    /// With `reuseEncoding` the encoder pass of the previous call is kept (x must hold the same rows, and no other
    /// pass may have run in between): only the u-networks and the decoder run, for other labels of the same cells.
    public func predictPrior(rows: Int, labels: Int, reuseEncoding: Bool = false) {
        let a = act, dI = cfg.latentInv, dN = cfg.latentResp
        if reuseEncoding { unets.forward(count: labels) } else { encode(rows: rows, labels: labels) }
        for r in 0..<rows {
            (a.z.p + r * ldz + dN).update(from: a.inv.p + r * 2 * dI, count: dI)
            let lb = unets.lb.p + a.uIdx.p[r] * dN
            for j in 0..<dN { a.nTilde.p[r * dN + j] = exp(0.5 * lb[j]) * a.epsResp.p[r * dN + j] }
        }
        solveResponse(rows: rows)
        decoder.forward(a.z.p, rows: rows, a.xHat.p)
    }

    /// Posterior means for `rows` rows with their labels: μ_ι into p (first d_ι columns of each 2·d_ι row) and
    /// z_ν (with ñ = μ') into the first d_ν columns of z. Also reconstructs into xh.
    public func posteriorMeans(rows: Int, labels: Int) {
        act.epsInv.p.update(repeating: 0, count: rows * cfg.latentInv)
        act.epsResp.p.update(repeating: 0, count: rows * cfg.latentResp)
        forward(n1: rows, n2: 0, labels: labels, beta: 0, alpha: 0)
    }
}
