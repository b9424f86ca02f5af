import Foundation

/// Training settings (pv-train options; defaults as the paper, DESIGN.md §5).
public struct TrainSettings {
    public var epochs = 100
    /// Total optimiser steps; when set it replaces `epochs` (which become ceil(steps / batches per epoch)).
    public var steps: Int?
    public var batch = 64
    public var lr: Float = 1e-4
    public var beta: Float = 1e-2
    public var alpha: Float = 0.05
    public var seed: UInt64 = 0
    public var checkpointEvery = 0
    public var selectOnVal = true
    /// `predict`: mean squared error between the predicted mean of each validation condition (from the prior, on a
    /// fixed sample of control cells and noise) and the mean of its validation cells. `recon`: reconstruction MSE of
    /// the validation cells through the model with their own u (posterior means).
    public var valMetric = "predict"
    /// Hidden test hook: stop (as if killed) after this many epochs, leaving the checkpoint.
    public var stopAfterEpoch: Int?
    public init() {}

    public var dict: [String: Any] {
        var d: [String: Any] = ["epochs": epochs, "batch": batch, "lr": Double(lr), "beta": Double(beta),
                                "alpha": Double(alpha), "seed": Int(seed), "select_on_val": selectOnVal,
                                "val_metric": valMetric]
        if let steps { d["steps"] = steps }
        return d
    }
}

/// Annealing as fractions of the T training steps (MODEL_SPEC.md): β is 0 until 0.1·T then linear to its final
/// value at T; α is 0 until 0.05·T then linear to its final value at 0.5·T.
public enum Annealing {
    public static func beta(step t: Int, total T: Int, final b: Float) -> Float {
        let s = 0.1 * Double(T)
        if Double(t) < s { return 0 }
        return b * Float(min(1, (Double(t) - s) / max(Double(T) - s, 1)))
    }
    public static func alpha(step t: Int, total T: Int, final a: Float) -> Float {
        let s = 0.05 * Double(T), e = 0.5 * Double(T)
        if Double(t) < s { return 0 }
        return a * Float(min(1, (Double(t) - s) / max(e - s, 1)))
    }
}

/// The training loop: shuffled batches of perturbed cells, each with a random control partner redrawn every epoch,
/// annealed β and α, Adam, per-epoch validation with best-checkpoint selection, atomic checkpoints and resume.
/// Each epoch's random choices come from a stream derived from (seed, epoch), so a resumed run repeats exactly.
public final class Trainer {
    public let vae: PerturbedVAE
    let data: TrainingData
    let expr: UnsafePointer<Float>
    let genes: [String]
    public let settings: TrainSettings
    public let adam: Adam
    public let batchesPerEpoch: Int
    public let totalSteps: Int
    public let epochs: Int
    public var step = 0
    public var epochsDone = 0
    public var history: [[String: Any]] = []
    public var bestVal = Double.infinity
    public var bestEpoch = 0, bestStep = 0
    let best: FloatBuffer
    var haveBest = false
    var slotOf: [Int]
    /// The epoch of the newest checkpoint at the checkpoint path (written by this run, or the one resumed from when
    /// the caller resumed from that same path); named when training diverges.
    public var lastCheckpointEpoch: Int?
    /// Extra meta.json entries for every file written (command-line facts).
    public var extraMeta: [String: Any] = [:]

    public init(config: PVConfig, data: TrainingData, expr: UnsafePointer<Float>, genes: [String], settings: TrainSettings) {
        self.data = data; self.expr = expr; self.genes = genes; self.settings = settings
        vae = PerturbedVAE(config: config, maxRows: 2 * settings.batch)
        vae.store.initialise(seed: settings.seed)
        adam = Adam(count: vae.store.count, lr: settings.lr)
        best = FloatBuffer(vae.store.count)
        batchesPerEpoch = (data.trainRows.count + settings.batch - 1) / settings.batch
        if let s = settings.steps {
            totalSteps = s
            epochs = (s + batchesPerEpoch - 1) / batchesPerEpoch
        } else {
            epochs = settings.epochs
            totalSteps = settings.epochs * batchesPerEpoch
        }
        slotOf = [Int](repeating: -1, count: data.conditions.count)
    }

    var G: Int { vae.cfg.genes }

    private func loadRow(_ src: Int, into dst: Int) {
        (vae.x.p + dst * G).update(from: expr + src * G, count: G)
    }

    /// Fills labels for rows 0..<n from condition indices (distinct labels once each); label slot 0 is control.
    private func setLabels(_ conds: ArraySlice<Int>) -> Int {
        vae.unets.setLabel(0, targets: [])
        var nU = 1
        for (i, c) in conds.enumerated() {
            if slotOf[c] < 0 { slotOf[c] = nU; vae.unets.setLabel(nU, targets: data.conditionTargets[c]); nU += 1 }
            vae.uIdx.p[i] = slotOf[c]
        }
        for c in conds { slotOf[c] = -1 }
        return nU
    }

    /// The validation loss of the current weights (nil without validation cells); see `TrainSettings.valMetric`.
    public func validationLoss() -> Double? {
        guard !data.valRows.isEmpty else { return nil }
        return settings.valMetric == "recon" ? reconstructionLoss() : predictionLoss()
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
    lazy var valSetup: (conds: [Int], means: [Float], controls: [Int], eps: [Float]) = {
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
    }()

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

    /// True when every planned step has run (false after --stop-after-epoch).
    public var finished: Bool { epochsDone >= epochs || step >= totalSteps }

    /// Runs the remaining epochs. `checkpoint(path)` is written every `checkpointEvery` epochs when a path is given.
    public func train(checkpointPath: String?) throws {
        let B = settings.batch, dI = vae.cfg.latentInv, dN = vae.cfg.latentResp
        let nTrain = data.trainRows.count
        let start = Date()
        let startStep = step
        var lastLine = Date()
        var condBuf = [Int](repeating: 0, count: B)
        var e = epochsDone
        while e < epochs && step < totalSteps {
            var rng = RNG(seed: settings.seed, stream: 1000 &+ UInt64(e))
            var order = Array(0..<nTrain)
            rng.shuffle(&order)
            var sums = LossTerms(), cells = 0
            var b = 0
            while b < batchesPerEpoch && step < totalSteps {
                let lo = b * B, n = min(B, nTrain - lo)
                for k in 0..<n {
                    condBuf[k] = data.trainCondition[order[lo + k]]
                    loadRow(data.trainRows[order[lo + k]], into: k)
                }
                let nU = setLabels(condBuf[0..<n])
                for k in 0..<n {
                    loadRow(data.controlRows[rng.int(below: data.controlRows.count)], into: n + k)
                    vae.uIdx.p[n + k] = 0
                }
                rng.fillNormal(vae.epsInv.p, 2 * n * dI)
                rng.fillNormal(vae.epsResp.p, 2 * n * dN)
                let bt = Annealing.beta(step: step, total: totalSteps, final: settings.beta)
                let at = Annealing.alpha(step: step, total: totalSteps, final: settings.alpha)
                // Gradients are zero here: allocated zero, and cleared by Adam's fused pass after every step.
                let t = vae.forward(n1: n, n2: n, labels: nU, beta: bt, alpha: at)
                guard t.loss.isFinite else {
                    let what = t.named.filter { !$0.1.isFinite }.map { $0.0 }.joined(separator: ", ")
                    let keep = checkpointPath != nil && lastCheckpointEpoch != nil && settings.checkpointEvery > 0
                        ? "; the last good checkpoint (epoch \(lastCheckpointEpoch!)) is kept in \(checkpointPath!)"
                        : settings.checkpointEvery > 0 ? "; no checkpoint had been written yet" : "; no checkpoint was written (use --checkpoint-every)"
                    throw PVError.numerical("training diverged: non-finite loss (\(what)) at epoch \(e + 1), step \(step + 1)\(keep); try a smaller --lr")
                }
                vae.backward(beta: bt, alpha: at)
                adam.step(params: vae.store.params, grads: vae.store.grads, zeroGrads: true)
                step += 1; b += 1
                let w = Double(n)
                sums.loss += t.loss * w; sums.mse += t.mse * w; sums.mse0 += t.mse0 * w
                sums.klResp += t.klResp * w; sums.klResp0 += t.klResp0 * w; sums.klInv += t.klInv * w
                sums.klInv0 += t.klInv0 * w; sums.align += t.align * w
                cells += n
                if Date().timeIntervalSince(lastLine) > 10 {
                    lastLine = Date()
                    info(String(format: "epoch %d step %d/%d loss %.4f | %@", e + 1, step, totalSteps, t.loss,
                                rate(start: start, startStep: startStep)))
                }
            }
            let c = Double(max(cells, 1))
            var rec: [String: Any] = ["epoch": e + 1, "step": step]
            for (k, v) in sums.named { rec[k] = v / c }
            let val = validationLoss()
            if let val, val.isFinite { rec["val"] = val }
            history.append(rec)
            if let val, settings.selectOnVal, val.isFinite, val < bestVal {
                bestVal = val; bestEpoch = e + 1; bestStep = step
                best.p.update(from: vae.store.params.p, count: best.count); haveBest = true
            }
            e += 1
            epochsDone = e
            lastLine = Date()
            var line = String(format: "epoch %d/%d step %d/%d loss %.4f mse %.4f mse0 %.4f kl_resp %.3f kl_resp0 %.3f kl_inv %.3f kl_inv0 %.3f align %.4f",
                              e, epochs, step, totalSteps, sums.loss / c, sums.mse / c, sums.mse0 / c, sums.klResp / c,
                              sums.klResp0 / c, sums.klInv / c, sums.klInv0 / c, sums.align / c)
            if let val { line += String(format: " val %.4f", val) }
            // Every epoch up to 100 epochs, else about 100 lines in all (and always the last).
            if epochs <= 100 || e % ((epochs + 99) / 100) == 0 || e == epochs { info(line + " | " + rate(start: start, startStep: startStep)) }
            if let p = checkpointPath, settings.checkpointEvery > 0, e % settings.checkpointEvery == 0 || settings.stopAfterEpoch == e {
                try checkpointFile().write(p)
                lastCheckpointEpoch = e
            }
            if settings.stopAfterEpoch == e { return }
        }
        if let last = history.last, let kl = last["kl_inv"] as? Double, kl < 1 {
            warn(String(format: "KL_inv = %.3f nats < 1 in the last epoch: the background latent z_inv has collapsed (little information in it)", kl))
        }
    }

    private func rate(start: Date, startStep: Int) -> String {
        let el = max(Date().timeIntervalSince(start), 1e-9)
        let sps = Double(step - startStep) / el
        let cellsPerS = sps * Double(2 * settings.batch)
        let eta = sps > 0 ? Double(totalSteps - step) / sps : 0
        let t = Int(eta.rounded())
        return String(format: "%.1f steps/s, %.0f cells/s, ETA %d:%02d:%02d", sps, cellsPerS, t / 3600, t / 60 % 60, t % 60)
    }

    /// Meta entries common to the final model and checkpoints.
    private func meta() -> [String: Any] {
        var m = extraMeta
        var hyper = PVModelIO.hyper(vae.cfg)
        for (k, v) in settings.dict { hyper[k] = v }
        hyper["total_steps"] = totalSteps
        hyper["batches_per_epoch"] = batchesPerEpoch
        m["hyper"] = hyper
        m["seed"] = Int(settings.seed)
        m["history"] = history
        m["train_conditions"] = Array(data.conditions.prefix(data.trainConditionCount))
        var sel: [String: Any] = ["epoch": epochsDone, "step": step, "by": "last"]
        if haveBest { sel = ["epoch": bestEpoch, "step": bestStep, "by": "val", "val": bestVal] }
        m["selected"] = sel
        return m
    }

    /// The output model: best-validation weights when validation cells exist (else the last weights).
    public func modelFile() -> ModelFile {
        var f = ModelFile(kind: "pvae", genes: genes, targets: data.targets, meta: meta())
        PVModelIO.setTensors(&f, store: vae.store, values: haveBest ? UnsafePointer(best.p) : UnsafePointer(vae.store.params.p))
        return f
    }

    /// A checkpoint: the output model so far plus the full training state (current weights, Adam moments, counters).
    public func checkpointFile() -> ModelFile {
        var f = modelFile()
        let P = vae.store.count
        f.set("train.params", vae.store.params.array, shape: [P])
        f.set("train.adam_m", adam.m.array, shape: [P])
        f.set("train.adam_v", adam.v.array, shape: [P])
        if haveBest { f.set("train.best", best.array, shape: [P]) }
        var st: [String: Any] = ["epochs_done": epochsDone, "step": step, "adam_t": adam.t]
        if haveBest { st["best_val"] = bestVal; st["best_epoch"] = bestEpoch; st["best_step"] = bestStep }
        f.meta["train_state"] = st
        return f
    }

    /// Restores the training state of a checkpoint, after checking it was made with the same settings and data.
    public func resume(from f: ModelFile, file: String) throws {
        guard f.kind == "pvae", let st = f.meta["train_state"] as? [String: Any] else {
            throw PVError.badInput(file: file, "not a pv-train checkpoint (no training state); write one with --checkpoint-every")
        }
        // Round-trip through JSON so both sides have the types JSONSerialization reads back.
        let mine = (try? JSONSerialization.jsonObject(with: JSONSerialization.data(withJSONObject: meta()["hyper"] as! [String: Any]))) as? [String: Any] ?? [:]
        let theirs = f.meta["hyper"] as? [String: Any] ?? [:]
        for k in mine.keys.sorted() {
            let a = "\(mine[k]!)", b = theirs[k].map { "\($0)" } ?? "(absent)"
            if a != b { throw PVError.usage("--resume \(file): the checkpoint was made with \(k) = \(b), this run has \(a); resume with the same options") }
        }
        guard f.genes == genes, f.targets == data.targets else {
            throw PVError.usage("--resume \(file): the checkpoint was trained on other genes or targets than these inputs")
        }
        if let t = f.meta["threads"] as? Int, t != Parallel.threads {
            warn("--resume \(file): the checkpoint ran with --threads \(t), this run with \(Parallel.threads); the result will not be bit-identical to an uninterrupted run")
        }
        let P = vae.store.count
        func restore(_ name: String, _ buf: FloatBuffer) throws {
            let v = try f.tensor(name, shape: [P], file: file)
            v.withUnsafeBufferPointer { buf.p.update(from: $0.baseAddress!, count: P) }
        }
        try restore("train.params", vae.store.params)
        try restore("train.adam_m", adam.m)
        try restore("train.adam_v", adam.v)
        func int(_ k: String) -> Int { (st[k] as? Int) ?? (st[k] as? NSNumber)?.intValue ?? 0 }
        epochsDone = int("epochs_done"); step = int("step"); adam.t = int("adam_t")
        if f.has("train.best") {
            try restore("train.best", best); haveBest = true
            bestVal = (st["best_val"] as? Double) ?? .infinity; bestEpoch = int("best_epoch"); bestStep = int("best_step")
        }
        history = f.meta["history"] as? [[String: Any]] ?? []
    }
}
