import Foundation

/// Per-epoch validation of the trainer (the loss that selects the checkpoint; see `ValMetric`).
extension Trainer {
    /// The validation loss of the current weights (nil without validation cells); see `TrainSettings.valMetric`.
    public func validationLoss() -> Double? {
        guard !data.valRows.isEmpty else { return nil }
        switch settings.valMetric {
        case .recon: return reconstructionLoss()
        case .predict: return predictionLoss()
        }
    }

    /// Mean reconstruction MSE of the validation cells through the model with their own u (posterior means).
    func reconstructionLoss() -> Double {
        var total = 0.0
        let B = vae.maxRows
        var i = 0
        while i < data.valRows.count {
            let n = min(B, data.valRows.count - i)
            for k in 0..<n { loadRow(data.valRows[i + k], into: k) }
            let nU = setLabels(data.valCondition[i..<(i + n)])
            vae.posteriorMeans(rows: n, labels: nU)
            total += MSELoss.forward(vae.xh.p, vae.x.p, rows: n, cols: G) * Double(n)
            i += n
        }
        return total / Double(data.valRows.count)
    }

    /// Validation conditions, the mean of their validation cells, a fixed control sample and fixed noise.
    func makeValSetup() -> ValSetup {
        var byCond: [Int: [Int]] = [:]
        for (k, r) in data.valRows.enumerated() { byCond[data.valCondition[k], default: []].append(r) }
        let conds = byCond.keys.sorted()
        var means = [Float](repeating: 0, count: conds.count * G)
        for (ci, c) in conds.enumerated() {
            let rows = byCond[c]!
            var acc = [Double](repeating: 0, count: G)
            for r in rows { for j in 0..<G { acc[j] += Double(expr[r * G + j]) } }
            for j in 0..<G { means[ci * G + j] = Float(acc[j] / Double(rows.count)) }
        }
        var rng = RNG(seed: settings.seed, stream: 0x7661_6c)
        let n = min(vae.maxRows, data.controlRows.count)
        let controls = rng.sample(data.controlRows.count, n).map { data.controlRows[$0] }
        var eps = [Float](repeating: 0, count: n * vae.cfg.latentResp)
        for i in eps.indices { eps[i] = rng.normal() }
        return (conds, means, controls, eps)
    }

    /// Mean over validation conditions of the MSE between the predicted mean (prior, fixed controls and noise)
    /// and the mean of the condition's validation cells: the accuracy that prediction needs, on seen conditions.
    func predictionLoss() -> Double {
        let v = valSetup
        let n = v.controls.count, dN = vae.cfg.latentResp
        var total = 0.0
        // The control sample is the same for every condition: load and encode it once, then only the u-networks
        // and the decoder run per condition.
        for k in 0..<n { loadRow(v.controls[k], into: k); vae.uIdx.p[k] = 1 }
        v.eps.withUnsafeBufferPointer { vae.epsResp.p.update(from: $0.baseAddress!, count: n * dN) }
        vae.unets.setLabel(0, targets: [])
        for (ci, c) in v.conds.enumerated() {
            vae.unets.setLabel(1, targets: data.conditionTargets[c])
            vae.predictPrior(rows: n, labels: 2, reuseEncoding: ci > 0)
            var s = 0.0
            for j in 0..<G {
                var m: Float = 0
                for k in 0..<n { m += vae.xh.p[k * G + j] }
                let e = Double(m / Float(n) - v.means[ci * G + j])
                s += e * e
            }
            total += s / Double(G)
        }
        return total / Double(max(v.conds.count, 1))
    }
}
