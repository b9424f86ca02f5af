import XCTest
import PVShared

/// Finite-difference checks of every block's backward pass and of the whole PerturbedVAE loss.
/// Central differences in float32 with the loss accumulated in double, on small well-conditioned sizes.
final class ModelGradientTests: XCTestCase {
    /// Compares analytic gradients with central differences at `indices` of `p`; returns the worst scaled error.
    static func fdError(_ p: UnsafeMutablePointer<Float>, _ indices: [Int], analytic: [Float], h: Float = 1e-3,
                        _ loss: () -> Double) -> Double {
        fdError(p, indices, analytic: analytic, steps: [h], loss)
    }

    /// With several step sizes an entry passes on its best one: small steps suffer float32 rounding, large ones a
    /// LeakyReLU kink crossed inside the step; a wrong gradient fails at every step.
    static func fdError(_ p: UnsafeMutablePointer<Float>, _ indices: [Int], analytic: [Float], steps: [Float],
                        _ loss: () -> Double) -> Double {
        var worst = 0.0
        let scale = max(analytic.map { abs(Double($0)) }.max() ?? 0, 1e-6)
        for (n, i) in indices.enumerated() {
            var best = Double.infinity
            let a = Double(analytic[n])
            for h in steps {
                let old = p[i]
                p[i] = old + h; let lp = loss()
                p[i] = old - h; let lm = loss()
                p[i] = old
                let fd = (lp - lm) / Double(2 * h)
                let err = abs(fd - a) / (abs(fd) + abs(a) + 0.05 * scale + 1e-4)
                if ProcessInfo.processInfo.environment["PV_FD_DEBUG"] != nil { print("fd", i, h, fd, a, err) }
                best = min(best, err)
            }
            worst = max(worst, best)
        }
        return worst
    }

    static func randomBuffer(_ n: Int, _ rng: inout RNG, scale: Float = 1) -> FloatBuffer {
        let b = FloatBuffer(n)
        for i in 0..<n { b.p[i] = rng.normal() * scale }
        return b
    }

    func testCheckerDetectsAWrongGradient() {
        // The checker must fail on a gradient that is 10% off, else every check below is vacuous.
        let x = FloatBuffer(3); x.p[0] = 0.5; x.p[1] = -1; x.p[2] = 2
        let loss = { Double(x.p[0] * x.p[0] + sin(x.p[1]) + x.p[2] * x.p[0]) }
        let good: [Float] = [2 * x.p[0] + x.p[2], cos(x.p[1]), x.p[0]]
        XCTAssertLessThan(Self.fdError(x.p, [0, 1, 2], analytic: good, loss), 1e-2)
        XCTAssertGreaterThan(Self.fdError(x.p, [0, 1, 2], analytic: good.map { $0 * 1.1 }, steps: [1e-3, 3e-3], loss), 2e-2)
    }

    func testLinearAndLeakyReLU() {
        var rng = RNG(seed: 1)
        let rows = 5, nIn = 7, nOut = 4, ldx = 9, ldy = 6
        let store = ParamStore(Linear.tensors("l", nIn, nOut))
        store.initialise(seed: 3)
        let lin = Linear(store, "l", nIn, nOut)
        let x = Self.randomBuffer(rows * ldx, &rng), w = Self.randomBuffer(rows * ldy, &rng)
        let y = FloatBuffer(rows * ldy), dx = FloatBuffer(rows * ldx)
        func loss() -> Double {
            lin.forward(x.p, ldx: ldx, rows: rows, y.p, ldy: ldy)
            LeakyReLU.forward(y.p, rows: rows, cols: nOut, ld: ldy)
            var s = 0.0
            for r in 0..<rows { for j in 0..<nOut { s += Double(w.p[r * ldy + j] * y.p[r * ldy + j]) } }
            return s
        }
        _ = loss()
        let dy = FloatBuffer(rows * ldy)
        for i in 0..<(rows * ldy) { dy.p[i] = w.p[i] }
        LeakyReLU.backward(y.p, ldy: ldy, dy.p, ldd: ldy, rows: rows, cols: nOut)
        store.grads.zero()
        lin.backward(x.p, ldx: ldx, dy.p, ldy: ldy, rows: rows, dx: dx.p, lddx: ldx)
        let all = Array(0..<store.count)
        XCTAssertLessThan(Self.fdError(store.params.p, all, analytic: store.grads.array, loss), 1e-2)
        let xi = (0..<rows).flatMap { r in (0..<nIn).map { r * ldx + $0 } }
        XCTAssertLessThan(Self.fdError(x.p, xi, analytic: xi.map { dx.p[$0] }, loss), 1e-2)
    }

    func testTriangularSolve() {
        var rng = RNG(seed: 2)
        let d = 5, rows = 3, U = 2, nL = d * (d - 1) / 2
        let c = Self.randomBuffer(rows * d, &rng), lnn = Self.randomBuffer(U * nL, &rng, scale: 0.5)
        let w = Self.randomBuffer(rows * d, &rng)
        let uIdx = IntBuffer(rows); uIdx.p[0] = 1; uIdx.p[1] = 0; uIdx.p[2] = 1
        let z = FloatBuffer(rows * d), dc = FloatBuffer(rows * d), dl = FloatBuffer(U * nL)
        func loss() -> Double {
            TriangularSolve.forward(c.p, ldc: d, z.p, ldz: d, rows: rows, d: d, lnn: lnn.p, uIdx: uIdx.p)
            return (0..<(rows * d)).reduce(0.0) { $0 + Double(w.p[$1] * z.p[$1]) }
        }
        _ = loss()
        // Known answer for row 1: (I − L) z = c.
        let L = lnn.p
        for i in 0..<d {
            var s = z.p[d + i]
            for j in 0..<i { s -= L[TriangularSolve.packed(i, j)] * z.p[d + j] }
            XCTAssertEqual(s, c.p[d + i], accuracy: 1e-4)
        }
        TriangularSolve.backward(z.p, ldz: d, w.p, lddz: d, dc.p, lddc: d, rows: rows, d: d, lnn: lnn.p, dlnn: dl.p, uIdx: uIdx.p)
        XCTAssertLessThan(Self.fdError(c.p, Array(0..<(rows * d)), analytic: dc.array, loss), 1e-2)
        XCTAssertLessThan(Self.fdError(lnn.p, Array(0..<(U * nL)), analytic: dl.array, loss), 1e-2)
    }

    func testLossTerms() {
        var rng = RNG(seed: 4)
        let rows = 4, d = 3, U = 2
        let mu = Self.randomBuffer(rows * 2 * d, &rng, scale: 0.7), lp = Self.randomBuffer(U * d, &rng, scale: 0.5)
        let uIdx = IntBuffer(rows); for r in 0..<rows { uIdx.p[r] = r % 2 }
        let dmu = FloatBuffer(rows * 2 * d), dlp = FloatBuffer(U * d)
        // KL with a per-label prior.
        let kl = { GaussianKL.forward(mu: mu.p, lv: mu.p + d, ld: 2 * d, rows: rows, d: d, logPrior: lp.p, uIdx: uIdx.p) }
        GaussianKL.backward(coef: 1, mu: mu.p, lv: mu.p + d, ld: 2 * d, rows: rows, d: d, logPrior: lp.p, uIdx: uIdx.p,
                            dmu: dmu.p, dlv: dmu.p + d, ldd: 2 * d, dLogPrior: dlp.p)
        XCTAssertLessThan(Self.fdError(mu.p, Array(0..<(rows * 2 * d)), analytic: dmu.array, kl), 1e-2)
        XCTAssertLessThan(Self.fdError(lp.p, Array(0..<(U * d)), analytic: dlp.array, kl), 1e-2)
        // Known answer: KL(N(0,1)‖N(0,1)) = 0 and KL(N(1, e^0)‖N(0,1)) = 0.5 per dim.
        let z2 = FloatBuffer(2 * d)
        XCTAssertEqual(GaussianKL.forward(mu: z2.p, lv: z2.p + d, ld: 2 * d, rows: 1, d: d, logPrior: nil, uIdx: nil), 0, accuracy: 1e-9)
        for j in 0..<d { z2.p[j] = 1 }
        XCTAssertEqual(GaussianKL.forward(mu: z2.p, lv: z2.p + d, ld: 2 * d, rows: 1, d: d, logPrior: nil, uIdx: nil), 1.5, accuracy: 1e-6)
        // Alignment.
        let a = Self.randomBuffer(rows * d * 2, &rng)
        let da = FloatBuffer(rows * d * 2)
        let al = { AlignmentLoss.forward(a.p, a.p + rows * d, ld: d, rows: rows, d: d) }
        AlignmentLoss.backward(coef: 1, a.p, a.p + rows * d, ld: d, rows: rows, d: d, da: da.p, db: da.p + rows * d, ldd: d)
        XCTAssertLessThan(Self.fdError(a.p, Array(0..<(rows * d * 2)), analytic: da.array, al), 1e-2)
        // MSE.
        let xh = Self.randomBuffer(rows * 5, &rng), x = Self.randomBuffer(rows * 5, &rng), dx = FloatBuffer(rows * 5)
        let mse = { MSELoss.forward(xh.p, x.p, rows: rows, cols: 5) }
        MSELoss.backward(xh.p, x.p, rows: rows, cols: 5, coef: 1, dx.p)
        XCTAssertLessThan(Self.fdError(xh.p, Array(0..<(rows * 5)), analytic: dx.array, mse), 1e-2)
        // Reparameterisation: L = Σ w·(μ + e^{lv/2} ε).
        let eps = Self.randomBuffer(rows * d, &rng), w = Self.randomBuffer(rows * d, &rng), zz = FloatBuffer(rows * d)
        let rp = { () -> Double in
            Reparam.forward(mu: mu.p, lv: mu.p + d, ld: 2 * d, eps: eps.p, lde: d, rows: rows, d: d, zz.p, ldz: d)
            return (0..<(rows * d)).reduce(0.0) { $0 + Double(w.p[$1] * zz.p[$1]) }
        }
        Reparam.backward(lv: mu.p + d, ld: 2 * d, eps: eps.p, lde: d, rows: rows, d: d, dz: w.p, lddz: d,
                         dmu: dmu.p, dlv: dmu.p + d, ldd: 2 * d)
        XCTAssertLessThan(Self.fdError(mu.p, Array(0..<(rows * 2 * d)), analytic: dmu.array, rp), 1e-2)
    }

    /// A small model with a filled batch: n1 perturbed rows (labels 1..U-1) and n1 control rows (label 0).
    static func smallModel(uCompose: UCompose, decoder: DecoderKind, seed: UInt64) -> (PerturbedVAE, Int, Int) {
        var c = PVConfig(genes: 12, targets: 3)
        c.hidden = 8; c.latentInv = 4; c.latentResp = 3; c.uCompose = uCompose; c.decoder = decoder; c.nodeHidden = 3
        let n1 = 4
        let m = PerturbedVAE(config: c, maxRows: 2 * n1)
        m.store.initialise(seed: seed)
        var rng = RNG(seed: seed &+ 100)
        for i in 0..<(2 * n1 * c.genes) { m.x.p[i] = rng.normal() }
        for i in 0..<(2 * n1 * c.latentInv) { m.epsInv.p[i] = rng.normal() }
        for i in 0..<(2 * n1 * c.latentResp) { m.epsResp.p[i] = rng.normal() }
        m.unets.setLabel(0, targets: []); m.unets.setLabel(1, targets: [0]); m.unets.setLabel(2, targets: [1, 2])
        for r in 0..<n1 { m.uIdx.p[r] = 1 + r % 2; m.uIdx.p[n1 + r] = 0 }
        return (m, n1, 3)
    }

    func checkWholeLoss(uCompose: UCompose, decoder: DecoderKind) {
        let (m, n1, U) = Self.smallModel(uCompose: uCompose, decoder: decoder, seed: 7)
        let beta: Float = 0.5, alpha: Float = 0.3
        m.store.grads.zero()
        let terms = m.forward(n1: n1, n2: n1, labels: U, beta: beta, alpha: alpha)
        XCTAssertTrue(terms.loss.isFinite)
        m.backward(beta: beta, alpha: alpha)
        let grads = m.store.grads.array
        var rng = RNG(seed: 11)
        for s in m.store.specs {
            // A sample of entries of every tensor.
            let idx = (0..<min(6, s.count)).map { _ in s.offset + rng.int(below: s.count) }
            let err = Self.fdError(m.store.params.p, idx, analytic: idx.map { grads[$0] }, steps: [1e-3, 3e-3]) {
                m.forward(n1: n1, n2: n1, labels: U, beta: beta, alpha: alpha).loss
            }
            XCTAssertLessThan(err, 2e-2, "\(uCompose)/\(decoder): tensor \(s.name)")
        }
    }

    func testWholeLossMlpMlp() { checkWholeLoss(uCompose: .mlp, decoder: .mlp) }
    func testWholeLossAdditiveU() { checkWholeLoss(uCompose: .additive, decoder: .mlp) }
    func testWholeLossAdditiveDecoder() { checkWholeLoss(uCompose: .mlp, decoder: .additive) }
    func testWholeLossAdditiveBoth() { checkWholeLoss(uCompose: .additive, decoder: .additive) }

    /// Decoder and u-network blocks on their own: L = Σ w·output, gradients of inputs and every parameter.
    func testDecoderBlocks() {
        for variant in DecoderKind.allCases {
            var c = PVConfig(genes: 7, targets: 3)
            c.hidden = 6; c.latentInv = 3; c.latentResp = 2; c.decoder = variant; c.nodeHidden = 3
            let store = ParamStore(c.tensors)
            store.initialise(seed: 5)
            let dec = makeDecoder(store, c, maxRows: 4)
            var rng = RNG(seed: 6)
            let rows = 4, ldz = 5
            let z = Self.randomBuffer(rows * ldz, &rng), w = Self.randomBuffer(rows * c.genes, &rng)
            let xh = FloatBuffer(rows * c.genes), dz = FloatBuffer(rows * ldz)
            func loss() -> Double {
                dec.forward(z.p, rows: rows, xh.p)
                return (0..<(rows * c.genes)).reduce(0.0) { $0 + Double(w.p[$1] * xh.p[$1]) }
            }
            _ = loss()
            store.grads.zero()
            dec.backward(z.p, rows: rows, w.p, dz: dz.p)
            let decoderTensors = store.specs.filter { $0.name.hasPrefix("dec") }
            XCTAssertFalse(decoderTensors.isEmpty)
            for s in decoderTensors {
                let idx = Array(s.offset..<(s.offset + s.count))
                XCTAssertLessThan(Self.fdError(store.params.p, idx, analytic: idx.map { store.grads.p[$0] }, steps: [3e-4, 1e-3, 3e-3], loss), 1e-2, "\(variant) \(s.name)")
            }
            XCTAssertLessThan(Self.fdError(z.p, Array(0..<(rows * ldz)), analytic: dz.array, steps: [1e-3, 3e-3], loss), 1e-2, variant.rawValue)
        }
    }

    func testUNetworkBlocks() {
        for variant in UCompose.allCases {
            var c = PVConfig(genes: 7, targets: 3)
            c.hidden = 6; c.latentInv = 3; c.latentResp = 3; c.uCompose = variant
            let store = ParamStore(c.tensors)
            store.initialise(seed: 8)
            let un = UNetworks(store, c, maxU: 3)
            un.setLabel(0, targets: []); un.setLabel(1, targets: [2]); un.setLabel(2, targets: [0, 1])
            var rng = RNG(seed: 9)
            let outs = [un.lnn, un.lni, un.mu, un.lb], douts = [un.dlnn, un.dlni, un.dmu, un.dlb]
            let ws = outs.map { Self.randomBuffer($0.count, &rng) }
            func loss() -> Double {
                un.forward(count: 3)
                var s = 0.0
                for (o, w) in zip(outs, ws) { for i in 0..<(o.count) { s += Double(o.p[i] * w.p[i]) } }
                return s
            }
            _ = loss()
            store.grads.zero()
            un.zeroGrads(count: 3)
            for (d, w) in zip(douts, ws) { d.p.update(from: w.p, count: d.count) }
            un.backward(count: 3)
            for s in store.specs where s.name.hasPrefix("u") {
                let idx = Array(s.offset..<(s.offset + s.count))
                XCTAssertLessThan(Self.fdError(store.params.p, idx, analytic: idx.map { store.grads.p[$0] }, steps: [3e-4, 1e-3, 3e-3], loss), 1e-2, "\(variant) \(s.name)")
            }
        }
    }
}
