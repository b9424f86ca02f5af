import Foundation

/// What pv-train fits: the PerturbedVAE or one of the baselines (`Baselines`).
public enum ModelKind: String, OptionChoice, Sendable {
    case pvae, control, mean, additive, linear
}

/// How the u-networks read the perturbation vector u (PVConfig.uCompose).
public enum UCompose: String, OptionChoice, Sendable {
    /// A shared MLP trunk K → H, then the heads.
    case mlp
    /// Each head a bias plus a linear map of u.
    case additive
}

/// The decoder's architecture (PVConfig.decoder).
public enum DecoderKind: String, OptionChoice, Sendable {
    /// f_dec on [z_ν, z_ι].
    case mlp
    /// f_ι(z_ι) + Σ_j f_j(z_ν,j), one small network per response node.
    case additive
}

/// The validation loss that selects the checkpoint (TrainSettings.valMetric).
public enum ValMetric: String, OptionChoice, Sendable {
    /// Mean squared error between each validation condition's predicted mean (from the prior, on a fixed sample of
    /// control cells and noise) and the mean of its validation cells.
    case predict
    /// Reconstruction MSE of the validation cells through the model with their own u (posterior means).
    case recon
}

/// pv-train's options, declared once: help, parsing, bounds, the "does not use" warnings and the defaults of
/// `PVConfig` and `TrainSettings` come from here.
public enum TrainOptions {
    static let pvae = [ModelKind.pvae.rawValue]
    static let model = "PerturbedVAE (--model pvae)", training = "Training (--model pvae)"
    static let baselines = "Baselines", diagnostics = "Diagnostics"

    public static let out = Option<String?>("out", short: "o", "FILE", default: nil,
                                            help: "output model file (.npz); also where checkpoints go")
    public static let kind = Option<ModelKind>("model", "KIND", default: .pvae,
                                               help: "pvae, or a baseline: control, mean, additive, linear")
    public static let genes = Option<String?>("genes", "FILE", default: nil, defaultText: "genes.tsv beside expr.npy",
                                              help: "gene names (column 'symbol') from pv-normalize")
    public static let seed = Option.seed(usedBy: pvae, help: "random seed (initial weights, batches, partners, noise)")

    public static let latentInv = Option<Int>("latent-inv", "N", default: 85, .atLeast(1), group: model, usedBy: pvae,
                                              help: "size of the background latent z_inv")
    public static let latentResp = Option<Int>("latent-resp", "N", default: 20, .atLeast(1), group: model, usedBy: pvae,
                                               help: "size of the response latent z_resp (at most half the targets)")
    public static let hidden = Option<Int>("hidden", "N", default: 256, .atLeast(1), group: model, usedBy: pvae,
                                           help: "hidden width of every network")
    public static let uCompose = Option<UCompose>("u-compose", "mlp|additive", default: .additive, group: model,
                                                  usedBy: pvae,
                                                  help: "u-networks: shared MLP trunk, or each head bias + linear in u (composed doubles stay the right size; bench/fidelity)")
    public static let decoder = Option<DecoderKind>("decoder", "mlp|additive", default: .mlp, group: model, usedBy: pvae,
                                                    help: "decoder: MLP on [z_resp, z_inv], or f(z_inv) + sum of per-node networks")
    public static let nodeHidden = Option<Int>("node-hidden", "N", default: 16, .atLeast(1), group: model, usedBy: pvae,
                                               help: "hidden width of each per-node network (--decoder additive)")

    public static let epochs = Option<Int>("epochs", "N", default: 100, .atLeast(0), group: training, usedBy: pvae,
                                           help: "training epochs (0: write the untrained model)")
    public static let steps = Option<Int?>("steps", "N", default: nil, .atLeast(0), group: training, usedBy: pvae,
                                           defaultText: "\(defaultSteps) unless --epochs is given",
                                           help: "total optimiser steps instead of --epochs")
    /// Optimiser steps when neither --steps nor --epochs is given (the benchmarked budget, bench/fidelity/NOTES.md).
    public static let defaultSteps = 4000
    public static let batch = Option<Int>("batch", "N", default: 64, .atLeast(1), group: training, usedBy: pvae,
                                          help: "perturbed cells per batch (each with a control partner)")
    public static let lr = Option<Double>("lr", "X", default: 1e-3, .above(0), group: training, usedBy: pvae,
                                          help: "Adam learning rate")
    public static let beta = Option<Double>("beta", "X", default: 1e-2, .atLeast(0), group: training, usedBy: pvae,
                                            help: "final KL weight (0 for the first 10% of steps, then linear)")
    public static let alpha = Option<Double>("alpha", "X", default: 0.05, .atLeast(0), group: training, usedBy: pvae,
                                             help: "final alignment weight (0 until 5% of steps, linear to 50%); 0 = no alignment")
    public static let ensemble = Option<Int>("ensemble", "N", default: 3, .atLeast(1), group: training, usedBy: pvae,
                                             help: "members trained with seeds seed..seed+N-1 into one model file; pv-predict averages them")
    public static let paper = Option(flag: "paper", group: training, usedBy: pvae,
                                     help: "the paper's hyperparameters: 100 epochs, lr 1e-4, beta 1e-2, alpha 0.05, mlp u-networks, 1 member (options given explicitly still apply)")
    public static let noValSelect = Option(flag: "no-val-select", group: training, usedBy: pvae,
                                           help: "keep the last weights instead of the best on the validation cells")
    public static let valMetric = Option<ValMetric>("val-metric", "predict|recon", default: .predict, group: training,
                                                    usedBy: pvae,
                                                    help: "validation loss: error of each val condition's predicted mean, or reconstruction of the val cells")
    public static let checkpointEvery = Option<Int>("checkpoint-every", "N", default: 0, .atLeast(0), group: training,
                                                    usedBy: pvae,
                                                    help: "write a resumable checkpoint to --out every N epochs (0: never)")
    public static let resume = Option<String?>("resume", "FILE", default: nil, group: training, usedBy: pvae,
                                               help: "continue from a checkpoint written with the same options and inputs")

    public static let rank = Option<Int?>("rank", "R", default: nil, .atLeast(1), group: baselines,
                                          usedBy: [ModelKind.additive.rawValue], defaultText: "full rank",
                                          help: "rank of the low-rank additive baseline")
    public static let pca = Option<Int>("pca", "N", default: 10, .atLeast(1), group: baselines,
                                        usedBy: [ModelKind.linear.rawValue], help: "PCA dimensions of the linear baseline")
    public static let ridge = Option<Double>("ridge", "X", default: 0.1, .atLeast(0), group: baselines,
                                             usedBy: [ModelKind.linear.rawValue], help: "ridge penalty of the linear baseline")

    public static let initOnly = Option(flag: "init-only", group: diagnostics, usedBy: pvae,
                                        help: "write the untrained model for --seed and exit (as --epochs 0)")
    public static let gradCheck = Option<String?>("grad-check", "BATCH.npz", default: nil, group: diagnostics,
                                                  help: "pv-train --grad-check BATCH.npz --out GRADS.npz MODEL.npz writes loss terms and gradients")
    public static let stopAfterEpoch = Option<Int?>("stop-after-epoch", "N", default: nil, group: diagnostics, usedBy: pvae,
                                                    help: "testing: stop after epoch N as if killed (needs --checkpoint-every)")

    public static let all: [any OptionDeclaration] = [
        out, kind, genes, seed,
        latentInv, latentResp, hidden, uCompose, decoder, nodeHidden,
        epochs, steps, batch, lr, beta, alpha, ensemble, paper, noValSelect, valMetric, checkpointEvery, resume,
        rank, pca, ridge,
        initOnly, gradCheck, stopAfterEpoch,
    ]
}
