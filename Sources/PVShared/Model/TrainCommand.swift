import Foundation

extension PVConfig {
    /// The network a parsed pv-train command line asks for. --latent-resp is lowered to half the targets (with a
    /// warning) unless it was given, when it only warns: more response nodes than that leave the graph underdetermined.
    public init(_ o: Options, genes: Int, targets K: Int) {
        self.init(genes: genes, targets: K)
        latentInv = o[TrainOptions.latentInv]; hidden = o[TrainOptions.hidden]; latentResp = o[TrainOptions.latentResp]
        uCompose = o[TrainOptions.paper] && !o.given(TrainOptions.uCompose) ? .mlp : o[TrainOptions.uCompose]; decoder = o[TrainOptions.decoder]
        nodeHidden = o[TrainOptions.nodeHidden]
        let half = max(1, K / 2)
        if latentResp > half {
            if o.given(TrainOptions.latentResp) {
                warn("--latent-resp \(latentResp) is more than half the \(K) targets; the response graph is underdetermined")
            } else {
                warn("--latent-resp lowered from \(latentResp) to \(half): it must be at most half the number of targets (\(K) here)")
                latentResp = half
            }
        }
    }
}

/// pv-train as a library call: reads expr.npy and split.tsv, fits the PerturbedVAE or a baseline, writes the model.
public enum TrainCommand {
    /// Runs a parsed pv-train command line (`TrainOptions`).
    public static func run(_ o: Options) throws {
        let out = try o.required(TrainOptions.out)
        try checkOutput(out, checkpoints: o[TrainOptions.checkpointEvery] > 0)
        if let batchPath = o[TrainOptions.gradCheck] {
            guard o.positionals.count == 1 else { throw PVError.usage("--grad-check takes one input, the model (usage: pv-train --grad-check BATCH.npz --out GRADS.npz MODEL.npz)") }
            try GradientOracle.run(modelPath: o.positionals[0], batchPath: batchPath, out: out)
            return
        }
        guard o.positionals.count == 2 else { throw PVError.usage("expected 2 input arguments, expr.npy and split.tsv (usage: pv-train [options] --out model.npz expr.npy split.tsv)") }
        let exprPath = o.positionals[0], splitPath = o.positionals[1]
        let exprArr = try NPYArray(path: exprPath)
        let (rows, cols, values) = try exprArr.matrix()
        let split = try SplitTable(path: splitPath)
        try split.check(rows: rows, exprName: displayName(exprPath))
        let genes = try GeneNames.resolve(explicit: o[TrainOptions.genes], exprPath: exprPath, cols: cols)

        let kind = o[TrainOptions.kind]
        // Options the chosen model does not use are named, so that nobody believes they had an effect.
        o.warnUnused(by: TrainOptions.kind, among: TrainOptions.all)
        if kind != .pvae {
            let m = try Baselines.train(kind: kind, expr: values, rows: rows, cols: cols, split: split, genes: genes,
                                        options: BaselineOptions(o))
            try m.write(out)
            info("wrote \(kind.rawValue) model to \(out)")
            return
        }
        try trainPVAE(o, expr: values, exprPath: exprPath, split: split, splitPath: splitPath, genes: genes, out: out)
    }

    /// Checked before the (possibly hours of) training, not when the model is finally written.
    static func checkOutput(_ out: String, checkpoints: Bool) throws {
        if out != "-" {
            let parent = (out as NSString).deletingLastPathComponent, dir = parent.isEmpty ? "." : parent
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw PVError.io(file: out, "folder \(dir) does not exist")
            }
            guard access(dir, W_OK) == 0 else { throw PVError.io(file: out, "folder \(dir) is not writable") }
        } else if checkpoints {
            throw PVError.usage("--checkpoint-every needs --out to be a file; checkpoints cannot go to stdout ('-')")
        }
    }

    static func trainPVAE(_ o: Options, expr values: UnsafeBufferPointer<Float>, exprPath: String, split: SplitTable,
                          splitPath: String, genes: [String], out: String) throws {
        let data = try TrainingData(split: split)
        let cols = genes.count
        for r in data.trainRows + data.controlRows + data.valRows {
            let row = values.baseAddress! + r * cols
            for j in 0..<cols where !row[j].isFinite {
                throw PVError.badInput(file: displayName(exprPath), "row \(r) (\(split.barcodes[r])), column \(j): non-finite value")
            }
        }
        let K = data.targets.count
        let cfg = PVConfig(o, genes: cols, targets: K)
        let s = try TrainSettings(o, trainCells: data.trainRows.count)
        let members = try memberCount(o, settings: s)
        // Members train side by side, one thread each, as many at once as --threads allows (bench/train: one member
        // on one thread runs nearer the sgemm bound than one member on two). The model file is the same as with the
        // members one after another: every parallel loop and product of a step is split by --threads, not by how
        // many threads are free, and summed in a fixed order (TrainKernelTests, BLASSplitTests, EnsembleInteractionTests).
        let width = max(1, min(members, Parallel.threads))
        // The networks, their Adam states and best weights, and the batches' activations must fit in memory (64).
        try cfg.requireMemory(rowsOption: ("--batch", s.batch, TrainOptions.batch.defaultValue), rowsPerUnit: 2 * width,
                              parameterCopies: 5 * width)
        if members == 1 {
            try trainMember(cfg, data: data, values: values, genes: genes, settings: s, o: o, exprPath: exprPath,
                            splitPath: splitPath, out: out)
            return
        }
        // Member k has seed seed+k; each is the model one --seed run would write. A wave's trainers live only
        // while it trains (memory for `width` members, as checked above).
        var files: [ModelFile] = []
        for first in stride(from: 0, to: members, by: width) {
            let wave = Array(first..<min(members, first + width))
            let trainers = wave.map { k -> Trainer in
                var sk = s
                sk.seed = s.seed + UInt64(k)
                let t = Trainer(config: cfg, data: data, expr: values.baseAddress!, genes: genes, settings: sk)
                t.extraMeta = ["threads": Parallel.threads, "inputs": [exprPath, splitPath]]
                t.label = "member \(k + 1)/\(members): "
                return t
            }
            if first == 0 { announce(trainers[0], data: data, cols: cols, K: K, s: s, splitPath: splitPath) }
            let plural = wave.count > 1 ? "s" : ""
            info("ensemble member\(plural) \(wave.map { "\($0 + 1)" }.joined(separator: ", ")) of \(members) (seed\(plural) "
                 + wave.map { "\(s.seed + UInt64($0))" }.joined(separator: ", ") + ")")
            var errors = [Error?](repeating: nil, count: wave.count)
            errors.withUnsafeMutableBufferPointer { errs in
                Parallel.parts(wave.count) { i in
                    do { if trainers[i].totalSteps > 0 { try trainers[i].train(checkpointPath: nil) } } catch { errs[i] = error }
                }
            }
            if let e = errors.compactMap({ $0 }).first { throw e }
            files += trainers.map { $0.modelFile() }
        }
        let m = ModelFile.ensemble(files)
        try m.write(out)
        info("wrote \(out): an ensemble of \(members) members (seeds \(s.seed)-\(s.seed + UInt64(members - 1)))")
    }

    /// Members to train: --ensemble, or 1 under --paper, --init-only (--epochs 0) and checkpointing unless --ensemble
    /// was given (checkpoints and --resume are for one model: with --ensemble N > 1 they are a usage error).
    public static func memberCount(_ o: Options, settings s: TrainSettings) throws -> Int {
        var members = o[TrainOptions.paper] && !o.given(TrainOptions.ensemble) ? 1 : o[TrainOptions.ensemble]
        if members > 1 && s.steps == nil && s.epochs == 0 && !o.given(TrainOptions.ensemble) { members = 1 }   // --init-only
        if members > 1 && (s.checkpointEvery > 0 || o.given(TrainOptions.resume)) {
            guard !o.given(TrainOptions.ensemble) else {
                throw PVError.usage("--checkpoint-every and --resume train one model: use --ensemble 1 (--ensemble is \(members))")
            }
            warn("--checkpoint-every/--resume train one model: --ensemble lowered from \(members) to 1")
            members = 1
        }
        return members
    }

    static func announce(_ trainer: Trainer, data: TrainingData, cols: Int, K: Int, s: TrainSettings, splitPath: String) {
        guard trainer.totalSteps > 0 else { return }
        info("\(data.trainRows.count) perturbed training cells of \(data.conditions.count) conditions, \(K) targets, \(data.controlRows.count) control partners, \(data.valRows.count) validation cells; \(cols) genes; \(trainer.vae.store.count) parameters; \(trainer.totalSteps) steps (\(trainer.batchesPerEpoch) per epoch)")
        if trainer.totalSteps < 4_000 {
            warn("only \(trainer.totalSteps) optimiser steps: the model is likely undertrained; consider --steps 4000 or more and --lr 1e-3 on a small screen")
        }
        if data.valRows.isEmpty && s.selectOnVal { warn("no validation cells (set 'val') in \(displayName(splitPath)): keeping the last weights") }
    }

    static func trainMember(_ cfg: PVConfig, data: TrainingData, values: UnsafeBufferPointer<Float>, genes: [String],
                            settings s: TrainSettings, o: Options, exprPath: String, splitPath: String, out: String) throws {
        let K = data.targets.count, cols = genes.count
        let trainer = Trainer(config: cfg, data: data, expr: values.baseAddress!, genes: genes, settings: s)
        trainer.extraMeta = ["threads": Parallel.threads, "inputs": [exprPath, splitPath]]
        if let r = o[TrainOptions.resume] {
            try trainer.resume(from: try ModelFile(path: r), file: displayName(r))
            if let done = trainer.resumedComplete {
                // A scheduler that restarts every job with --resume: the finished run's model is the result.
                if !OutputSet.samePath(r, out) {
                    guard let bytes = FileManager.default.contents(atPath: r) else { throw PVError.missingInput(file: r, "cannot read") }
                    try writeFileAtomically(out) { try $0.write(Array(bytes)) }
                }
                info("\(r): training already complete (epoch \(done.epochs), step \(done.step)); nothing to do")
                return
            }
            if URL(fileURLWithPath: r).standardizedFileURL.path == URL(fileURLWithPath: out).standardizedFileURL.path {
                trainer.lastCheckpointEpoch = trainer.epochsDone
            }
            info("resuming from \(r) after epoch \(trainer.epochsDone), step \(trainer.step)")
        }
        if trainer.totalSteps == 0 {
            try trainer.modelFile().write(out)
            info("wrote the untrained model (seed \(s.seed)) to \(out)")
            return
        }
        announce(trainer, data: data, cols: cols, K: K, s: s, splitPath: splitPath)
        try trainer.train(checkpointPath: s.checkpointEvery > 0 ? out : nil)
        if !trainer.finished {
            info("stopped after epoch \(trainer.epochsDone) as asked; resume with --resume \(out)")
            return
        }
        let m = trainer.modelFile()
        try m.write(out)
        if let sel = m.meta["selected"] as? [String: Any] {
            info("wrote \(out): weights of epoch \(sel["epoch"] ?? "?"), step \(sel["step"] ?? "?") (selected by \(sel["by"] ?? "?"))")
        }
    }
}
