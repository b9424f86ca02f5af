import Foundation

/// The gradient oracle: loads MODEL.npz and one batch (x, x0, u, noises, coef = (beta, alpha)), runs the loss
/// forward and backward once, and writes the loss terms and the gradient of every tensor as `grad.NAME`.
public enum GradientOracle {
    /// Runs the oracle: MODEL.npz and BATCH.npz in, loss terms and gradients to `out`.
    public static func run(modelPath: String, batchPath: String, out: String) throws {
        let m = try ModelFile(path: modelPath)
        let cfg = try PVModelIO.config(of: m, file: displayName(modelPath))
        let batch = try NPZ(path: batchPath)
        let bn = displayName(batchPath)
        func arr(_ name: String, cols: Int) throws -> (Int, [Float]) {
            let a = try batch.array(name, file: bn)
            guard a.shape.count == 2, a.shape[1] == cols else {
                throw PVError.badInput(file: bn, "member \(name) has shape \(a.shape), expected [B, \(cols)]")
            }
            return (a.shape[0], a.floatArray())
        }
        let (B, x) = try arr("x", cols: cfg.genes)
        guard B > 0 else { throw PVError.badInput(file: bn, "empty batch") }
        func rowsOf(_ name: String, cols: Int) throws -> [Float] {
            let (n, v) = try arr(name, cols: cols)
            guard n == B else { throw PVError.badInput(file: bn, "member \(name) has \(n) rows, x has \(B)") }
            return v
        }
        let x0 = try rowsOf("x0", cols: cfg.genes), u = try rowsOf("u", cols: cfg.targets)
        let ei = try rowsOf("eps_inv", cols: cfg.latentInv), er = try rowsOf("eps_resp", cols: cfg.latentResp)
        let ei0 = try rowsOf("eps_inv0", cols: cfg.latentInv), er0 = try rowsOf("eps_resp0", cols: cfg.latentResp)
        let coef = try batch.array("coef", file: bn).floatArray()
        guard coef.count == 2 else { throw PVError.badInput(file: bn, "member coef must hold 2 values (beta, alpha)") }
        let vae = PerturbedVAE(config: cfg, maxRows: 2 * B)
        try PVModelIO.loadWeights(m, into: vae.store, file: displayName(modelPath))
        let G = cfg.genes, K = cfg.targets, dI = cfg.latentInv, dN = cfg.latentResp
        x.withUnsafeBufferPointer { vae.x.p.update(from: $0.baseAddress!, count: B * G) }
        x0.withUnsafeBufferPointer { (vae.x.p + B * G).update(from: $0.baseAddress!, count: B * G) }
        ei.withUnsafeBufferPointer { vae.epsInv.p.update(from: $0.baseAddress!, count: B * dI) }
        ei0.withUnsafeBufferPointer { (vae.epsInv.p + B * dI).update(from: $0.baseAddress!, count: B * dI) }
        er.withUnsafeBufferPointer { vae.epsResp.p.update(from: $0.baseAddress!, count: B * dN) }
        er0.withUnsafeBufferPointer { (vae.epsResp.p + B * dN).update(from: $0.baseAddress!, count: B * dN) }
        // Distinct labels, control (all zero) first.
        var slots: [[Float]: Int] = [[Float](repeating: 0, count: K): 0]
        var labels: [[Float]] = [[Float](repeating: 0, count: K)]
        for r in 0..<B {
            let row = Array(u[(r * K)..<((r + 1) * K)])
            if row.contains(where: { $0 != 0 && $0 != 1 }) { throw PVError.badInput(file: bn, "u row \(r) is not 0/1") }
            if slots[row] == nil { slots[row] = labels.count; labels.append(row) }
            vae.uIdx.p[r] = slots[row]!
            vae.uIdx.p[B + r] = 0
        }
        for (i, l) in labels.enumerated() { vae.unets.setLabel(i, targets: l.enumerated().filter { $0.1 == 1 }.map { $0.0 }) }
        vae.store.grads.zero()
        let t = vae.forward(n1: B, n2: B, labels: labels.count, beta: coef[0], alpha: coef[1])
        vae.backward(beta: coef[0], alpha: coef[1])
        var z = NPZ()
        for (n, v) in t.named { z.add(n, [Float(v)], shape: [1]) }
        for s in vae.store.specs { z.add("grad." + s.name, vae.store.gradValues(s.name), shape: s.shape) }
        try z.write(out)
        info(String(format: "loss %.6f for a batch of %d; wrote %d gradients to %@", t.loss, B, vae.store.specs.count, out))
    }
}
