import Foundation
import PVShared

let description = """
Trains a PerturbedVAE (DESIGN.md §5) on the training cells of split.tsv (set 'train'; controls are partners, \
set 'val' selects the checkpoint) and writes model.npz (weights as .npy members, meta.json with every \
hyperparameter, the gene and target lists, seed, version and the per-epoch loss history).

Defaults are the paper's (100 epochs, lr 1e-4, batch 64). On small screens that is too few optimiser steps:
use --steps (e.g. --steps 20000) and --lr 1e-3. Annealing of beta and alpha is defined as fractions of all steps.
With validation cells (set 'val') the output holds the weights of the epoch that predicts them best (--val-metric).
--model control|mean|additive|linear trains a baseline instead (same model file, same pv-predict).

Diagnostics: --init-only writes the untrained model for --seed; --grad-check BATCH.npz MODEL.npz writes the loss
terms and the gradient of every tensor for one given batch (a gradient oracle for other implementations; see README).
"""

runTool("pv-train") {
    let o = try Options(tool: "pv-train", synopsis: "pv-train [options] --out model.npz expr.npy split.tsv",
                        description: description, specs: [
        OptionSpec("out", short: "o", value: "FILE", help: "output model file (.npz); also where checkpoints go"),
        OptionSpec("model", value: "KIND", default: "pvae", help: "pvae, or a baseline: control, mean, additive, linear"),
        OptionSpec("rank", value: "R", default: "full: plain additive", help: "rank of the low-rank additive baseline (--model additive)"),
        OptionSpec("pca", value: "N", default: "10", help: "PCA dimensions of the linear baseline (--model linear)"),
        OptionSpec("ridge", value: "X", default: "0.1", help: "ridge penalty of the linear baseline (--model linear)"),
        OptionSpec("genes", value: "FILE", default: "genes.tsv beside expr.npy", help: "gene names (column 'symbol') from pv-normalize"),
        OptionSpec("latent-inv", value: "N", default: "85", help: "size of the background latent z_inv"),
        OptionSpec("latent-resp", value: "N", default: "20", help: "size of the response latent z_resp (at most half the targets)"),
        OptionSpec("hidden", value: "N", default: "256", help: "hidden width of every network"),
        OptionSpec("epochs", value: "N", default: "100", help: "training epochs (0: write the untrained model)"),
        OptionSpec("steps", value: "N", help: "total optimiser steps instead of --epochs (recommended on small screens)"),
        OptionSpec("batch", value: "N", default: "64", help: "perturbed cells per batch (each with a control partner)"),
        OptionSpec("lr", value: "X", default: "1e-4", help: "Adam learning rate (1e-3 works better on small screens)"),
        OptionSpec("beta", value: "X", default: "1e-2", help: "final KL weight (0 for the first 10% of steps, then linear)"),
        OptionSpec("alpha", value: "X", default: "0.05", help: "final alignment weight (0 until 5% of steps, linear to 50%); 0 = no alignment"),
        OptionSpec("u-compose", value: "mlp|additive", default: "mlp", help: "u-networks: shared MLP trunk, or each head bias + linear in u"),
        OptionSpec("decoder", value: "mlp|additive", default: "mlp", help: "decoder: MLP on [z_resp, z_inv], or f(z_inv) + sum of per-node networks"),
        OptionSpec("node-hidden", value: "N", default: "16", help: "hidden width of each per-node network (--decoder additive)"),
        OptionSpec("seed", value: "N", default: "0", help: "random seed (initial weights, batches, partners, noise)"),
        .flag("no-val-select", help: "keep the last weights instead of the best on the validation cells"),
        OptionSpec("val-metric", value: "predict|recon", default: "predict", help: "validation loss: error of each val condition's predicted mean, or reconstruction of the val cells"),
        OptionSpec("checkpoint-every", value: "N", default: "0", help: "write a resumable checkpoint to --out every N epochs (0: never)"),
        OptionSpec("resume", value: "FILE", help: "continue from a checkpoint written with the same options and inputs"),
        .flag("init-only", help: "write the untrained model for --seed and exit (as --epochs 0)"),
        OptionSpec("grad-check", value: "BATCH.npz", help: "diagnostic: pv-train --grad-check BATCH.npz --out GRADS.npz MODEL.npz writes loss terms and gradients"),
        OptionSpec("stop-after-epoch", value: "N", help: "testing: stop after epoch N as if killed (needs --checkpoint-every)"),
    ], positionals: 1...2)

    let out = try o.required("out")
    // Checked before the (possibly hours of) training, not when the model is finally written.
    if out != "-" {
        let parent = (out as NSString).deletingLastPathComponent, dir = parent.isEmpty ? "." : parent
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw PVError.io(file: out, "folder \(dir) does not exist")
        }
        guard access(dir, W_OK) == 0 else { throw PVError.io(file: out, "folder \(dir) is not writable") }
    } else if try o.int("checkpoint-every") > 0 {
        throw PVError.usage("--checkpoint-every needs --out to be a file; checkpoints cannot go to stdout ('-')")
    }
    if let batchPath = o.string("grad-check") {
        guard o.positionals.count == 1 else { throw PVError.usage("--grad-check takes one input, the model (usage: pv-train --grad-check BATCH.npz --out GRADS.npz MODEL.npz)") }
        try gradCheck(modelPath: o.positionals[0], batchPath: batchPath, out: out)
        return
    }
    guard o.positionals.count == 2 else { throw PVError.usage("expected 2 input arguments, expr.npy and split.tsv (usage: pv-train [options] --out model.npz expr.npy split.tsv)") }
    let exprPath = o.positionals[0], splitPath = o.positionals[1]
    let exprArr = try NPYArray(path: exprPath)
    let (rows, cols, values) = try exprArr.matrix()
    let split = try SplitTable(path: splitPath)
    try split.check(rows: rows, exprName: displayName(exprPath))
    let genes = try GeneNames.resolve(explicit: o.given("genes") ? o.string("genes") : nil, exprPath: exprPath, cols: cols)

    let kind = try o.choice("model", ["pvae"] + Baselines.kinds)
    // Options the chosen model does not use are named, so that nobody believes they had an effect.
    let onlyFor = ["rank": "additive", "pca": "linear", "ridge": "linear"]
    var unused = onlyFor.keys.filter { o.given($0) && onlyFor[$0] != kind }
    if kind != "pvae" {
        unused += ["latent-inv", "latent-resp", "hidden", "epochs", "steps", "batch", "lr", "beta", "alpha", "u-compose",
                   "decoder", "node-hidden", "no-val-select", "val-metric", "checkpoint-every", "resume", "init-only",
                   "stop-after-epoch"].filter { o.given($0) }
    }
    if !unused.isEmpty {
        warn("--model \(kind) does not use \(unused.sorted().map { "--" + $0 }.joined(separator: ", ")); ignored")
    }
    if kind != "pvae" {
        var opts: [String: Any] = [:]
        if let r = try o.intIfPresent("rank") { opts["rank"] = r }
        if kind == "linear" { opts["pca"] = try o.int("pca"); opts["ridge"] = try o.double("ridge") }
        let m = try Baselines.train(kind: kind, expr: values, rows: rows, cols: cols, split: split, genes: genes, options: opts)
        try m.write(out)
        info("wrote \(kind) model to \(out)")
        return
    }

    let data = try TrainingData(split: split)
    for r in data.trainRows + data.controlRows + data.valRows {
        let row = values.baseAddress! + r * cols
        for j in 0..<cols where !row[j].isFinite {
            throw PVError.badInput(file: displayName(exprPath), "row \(r) (\(split.barcodes[r])), column \(j): non-finite value")
        }
    }
    let K = data.targets.count
    var cfg = PVConfig(genes: cols, targets: K)
    cfg.latentInv = try o.int("latent-inv", atLeast: 1); cfg.hidden = try o.int("hidden", atLeast: 1)
    cfg.latentResp = try o.int("latent-resp", atLeast: 1)
    cfg.uCompose = try o.choice("u-compose", ["mlp", "additive"]); cfg.decoder = try o.choice("decoder", ["mlp", "additive"])
    cfg.nodeHidden = try o.int("node-hidden", atLeast: 1)
    let half = max(1, K / 2)
    if cfg.latentResp > half {
        if o.given("latent-resp") {
            warn("--latent-resp \(cfg.latentResp) is more than half the \(K) targets; the response graph is underdetermined")
        } else {
            warn("--latent-resp lowered from \(cfg.latentResp) to \(half): it must be at most half the number of targets (\(K) here)")
            cfg.latentResp = half
        }
    }
    var s = TrainSettings()
    s.epochs = try o.int("epochs")
    guard s.epochs >= 0 else { throw PVError.usage("--epochs must be at least 0") }
    s.steps = try o.intIfPresent("steps")
    if let st = s.steps, st < 0 { throw PVError.usage("--steps must be at least 0") }
    s.batch = try o.int("batch", atLeast: 1)
    if s.batch > data.trainRows.count {
        warn("--batch lowered from \(s.batch) to \(data.trainRows.count): there are only \(data.trainRows.count) perturbed training cells")
        s.batch = data.trainRows.count
    }
    s.lr = Float(try o.double("lr")); s.beta = Float(try o.double("beta")); s.alpha = Float(try o.double("alpha"))
    guard s.lr > 0, s.beta >= 0, s.alpha >= 0 else { throw PVError.usage("--lr must be positive, --beta and --alpha at least 0") }
    let seed = try o.int("seed")
    guard seed >= 0 else { throw PVError.usage("--seed must be at least 0") }
    s.seed = UInt64(seed)
    s.selectOnVal = !o.flag("no-val-select")
    s.valMetric = try o.choice("val-metric", ["predict", "recon"])
    s.checkpointEvery = try o.int("checkpoint-every")
    guard s.checkpointEvery >= 0 else { throw PVError.usage("--checkpoint-every must be at least 0") }
    s.stopAfterEpoch = try o.intIfPresent("stop-after-epoch")
    if s.stopAfterEpoch != nil && s.checkpointEvery == 0 { throw PVError.usage("--stop-after-epoch needs --checkpoint-every") }
    if o.flag("init-only") { s.epochs = 0; s.steps = nil }

    let trainer = Trainer(config: cfg, data: data, expr: values.baseAddress!, genes: genes, settings: s)
    trainer.extraMeta = ["threads": Parallel.threads, "inputs": [exprPath, splitPath]]
    if let r = o.string("resume") {
        try trainer.resume(from: try ModelFile(path: r), file: displayName(r))
        if URL(fileURLWithPath: r).standardizedFileURL.path == URL(fileURLWithPath: out).standardizedFileURL.path {
            trainer.lastCheckpointEpoch = trainer.epochsDone
        }
        info("resuming from \(r) after epoch \(trainer.epochsDone), step \(trainer.step)")
    }
    if trainer.totalSteps == 0 {
        try trainer.modelFile().write(out)
        info("wrote the untrained model (seed \(seed)) to \(out)")
        return
    }
    info("\(data.trainRows.count) perturbed training cells of \(data.conditions.count) conditions, \(K) targets, \(data.controlRows.count) control partners, \(data.valRows.count) validation cells; \(cols) genes; \(trainer.vae.store.count) parameters; \(trainer.totalSteps) steps (\(trainer.batchesPerEpoch) per epoch)")
    if trainer.totalSteps < 10_000 {
        warn("only \(trainer.totalSteps) optimiser steps: the model is likely undertrained; consider --steps 20000 and --lr 1e-3 on a small screen")
    }
    if data.valRows.isEmpty && s.selectOnVal { warn("no validation cells (set 'val') in \(displayName(splitPath)): keeping the last weights") }
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
