import Foundation

/// pv-predict's options, declared once: help, parsing, bounds and `PredictJob`'s defaults come from here.
public enum PredictOptions {
    public static let synopsis = "pv-predict [options] --out DIR model.npz expr.npy split.tsv"

    public static let out = Option<String?>("out", short: "o", "DIR", default: nil,
                                            help: "output folder for pred.npy and pred.tsv (created if needed)")
    public static let conditions = Option<String?>("conditions", "LIST", default: nil,
                                                   help: "comma-separated conditions, e.g. \"KLF1+MAP2K6,CEBPE\" [default: the test conditions of split.tsv]")
    public static let cellsPerCondition = Option<Int?>("cells-per-condition", "N", default: nil, .atLeast(1),
                                                       defaultText: "as many as the truth has in split.tsv, else 100",
                                                       help: "predicted cells per condition")
    public static let mode = Option<PredictMode>("predict", "interaction|prior|delta", default: .interaction,
                                                 help: "interaction: exact additive from the training singles + the ensemble's interaction term, shrunk (pvae); prior: decode from the condition's prior; delta: control cell + f(u) - f(0)")
    public static let shrink = Option<ShrinkMode>("shrink", "val|eb", default: .val,
                                                  help: "--predict interaction: fit c + k(a - c) + l*I on the validation doubles (set val), or empirical Bayes per gene from member disagreement (also the fallback without validation doubles)")
    public static let seed = Option.seed(help: "random seed (control cells drawn, response noise)")
    public static let meanDraws = Option<Int>("mean-draws", "N", default: 1, .atLeast(1),
                                              help: "noise draws per training control cell for a pvae model's means.npy")
    public static let batch = Option<Int>("batch", "N", default: 256, .atLeast(2), help: "cells per forward pass")
    public static let listTargets = Option(flag: "list-targets",
                                           help: "print the perturbation targets of model.npz, one per line, and exit")
    public static let latents = Option<String?>("latents", "FILE", default: nil,
                                                help: "also write mu_inv and z_resp (posterior means) of every cell of split.tsv with known targets (TSV)")
    public static let graph = Option<String?>("graph", "FILE", default: nil,
                                              help: "also write the learned graph Lambda_resp (edges) and each target's program (TSV)")
    public static let edgeThreshold = Option<Double>("edge-threshold", "X", default: 0.25,
                                                     help: "|weight| above which a Lambda_resp entry is an edge in --graph")

    public static let all: [any OptionDeclaration] = [out, conditions, cellsPerCondition, mode, shrink, seed, meanDraws, batch,
                                                      listTargets, latents, graph, edgeThreshold]
}
