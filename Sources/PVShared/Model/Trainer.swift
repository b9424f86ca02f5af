import Foundation

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
    /// Set by `resume` when the file is the model of a finished run (its epochs and steps): nothing to train.
    public internal(set) var resumedComplete: (epochs: Int, step: Int)?
    public var bestEpoch = 0, bestStep = 0
    let best: FloatBuffer
    var haveBest = false
    var slotOf: [Int]
    /// The epoch of the newest checkpoint at the checkpoint path (written by this run, or the one resumed from when
    /// the caller resumed from that same path); named when training diverges.
    public var lastCheckpointEpoch: Int?
    /// Extra meta.json entries for every file written (command-line facts).
    public var extraMeta: [String: Any] = [:]
    /// Starts every progress line and warning (e.g. "member 2/3: " when ensemble members train side by side).
    public var label = ""

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

    func loadRow(_ src: Int, into dst: Int) {
        (vae.x.p + dst * G).update(from: expr + src * G, count: G)
    }

    /// Copies expression rows `src[k]` into batch rows k < count, on both threads.
    func loadRows(_ src: [Int], count: Int) {
        src.withUnsafeBufferPointer { s in
            Parallel.chunks(count, minChunk: Linear.minRows(G)) { range in for k in range { loadRow(s[k], into: k) } }
        }
    }

    /// Fills labels for rows 0..<n from condition indices (distinct labels once each); label slot 0 is control.
    func setLabels(_ conds: ArraySlice<Int>) -> Int {
        vae.unets.setLabel(0, targets: [])
        var nU = 1
        for (i, c) in conds.enumerated() {
            if slotOf[c] < 0 { slotOf[c] = nU; vae.unets.setLabel(nU, targets: data.conditionTargets[c]); nU += 1 }
            vae.uIdx.p[i] = slotOf[c]
        }
        for c in conds { slotOf[c] = -1 }
        return nU
    }

    /// Computed on first use (see `makeValSetup`).
    typealias ValSetup = (conds: [Int], means: [Float], controls: [Int], eps: [Float])
    lazy var valSetup: ValSetup = makeValSetup()

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
        var srcRows = [Int](repeating: 0, count: 2 * B)
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
                    srcRows[k] = data.trainRows[order[lo + k]]
                }
                let nU = setLabels(condBuf[0..<n])
                for k in 0..<n {
                    srcRows[n + k] = data.controlRows[rng.int(below: data.controlRows.count)]
                    vae.uIdx.p[n + k] = 0
                }
                loadRows(srcRows, count: 2 * n)
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
                    info(label + String(format: "epoch %d step %d/%d loss %.4f | %@", e + 1, step, totalSteps, t.loss,
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
            if epochs <= 100 || e % ((epochs + 99) / 100) == 0 || e == epochs { info(label + line + " | " + rate(start: start, startStep: startStep)) }
            if let p = checkpointPath, settings.checkpointEvery > 0, e % settings.checkpointEvery == 0 || settings.stopAfterEpoch == e {
                try checkpointFile().write(p)
                lastCheckpointEpoch = e
            }
            if settings.stopAfterEpoch == e { return }
        }
        if let last = history.last, let kl = last["kl_inv"] as? Double, kl < 1 {
            warn(label + String(format: "KL_inv = %.3f nats < 1 in the last epoch: the background latent z_inv has collapsed (little information in it)", kl))
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
}
