import Foundation

/// The trainer's outputs: the model file (best-validation or last weights, with every hyperparameter and the loss
/// history in meta.json), resumable checkpoints, and resuming from one.
extension Trainer {
    /// Meta entries common to the final model and checkpoints.
    func meta() -> [String: Any] {
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
        // A finished run's model says so: `--resume` of it (a scheduler that always restarts with --resume) is then
        // "already complete", not "not a checkpoint". A checkpoint replaces this with the full state.
        if finished { m["train_state"] = ["complete": true, "epochs_done": epochsDone, "step": step] }
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
        if haveBest {
            // The best validation loss exactly (float64 tensor): through JSON it lost bits, and selection after a
            // resume compared later losses with the rounded value (meta.selected.val differed from the uninterrupted run's).
            f.setFloat64("train.best_val", [bestVal], shape: [1])
            st["best_val"] = bestVal; st["best_epoch"] = bestEpoch; st["best_step"] = bestStep
        }
        f.meta["train_state"] = st
        return f
    }

    /// Restores the training state of a checkpoint, after checking it was made with the same settings and data.
    public func resume(from f: ModelFile, file: String) throws {
        guard f.kind == "pvae", let st = f.meta["train_state"] as? [String: Any] else {
            throw PVError.badInput(file: file, "not a pv-train checkpoint (no training state); write one with --checkpoint-every")
        }
        let complete = (st["complete"] as? Bool) == true
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
        func int(_ k: String) -> Int { (st[k] as? Int) ?? (st[k] as? NSNumber)?.intValue ?? 0 }
        if complete {
            // The model of a finished run with these options and inputs: nothing to train.
            resumedComplete = (epochs: int("epochs_done"), step: int("step"))
            return
        }
        let P = vae.store.count
        func restore(_ name: String, _ buf: FloatBuffer) throws {
            let v = try f.tensor(name, shape: [P], file: file)
            v.withUnsafeBufferPointer { buf.p.update(from: $0.baseAddress!, count: P) }
        }
        try restore("train.params", vae.store.params)
        try restore("train.adam_m", adam.m)
        try restore("train.adam_v", adam.v)
        epochsDone = int("epochs_done"); step = int("step"); adam.t = int("adam_t")
        if f.has("train.best") {
            try restore("train.best", best); haveBest = true
            bestVal = f.float64("train.best_val")?.first ?? (st["best_val"] as? Double) ?? .infinity; bestEpoch = int("best_epoch"); bestStep = int("best_step")
        }
        history = f.meta["history"] as? [[String: Any]] ?? []
    }
}
