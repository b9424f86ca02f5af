import Foundation

/// The control cells whose mean is c for the deltas (ScoreSettings.controlSet).
public enum ControlSet: String, OptionChoice, Sendable {
    /// Every control cell, whatever its set.
    case all
    /// The control cells of split set test (pv-split --control-holdout), so that a predictor built from the training
    /// controls shares no noise with c.
    case test
}

/// pv-score's options, declared once: help, parsing, bounds and `ScoreSettings`' defaults come from here.
public enum ScoreOptions {
    public static let pred = Option<String?>("pred", "NAME=PATH", default: nil, repeatable: true,
                                             help: "a prediction: name and pred.npy (pred.tsv beside it)")
    public static let out = Option<String?>("out", short: "o", "FILE", default: nil,
                                            help: "per-condition TSV (one row per prediction and condition; - for stdout)")
    public static let json = Option<String?>("json", "FILE", default: nil,
                                             help: "everything as JSON (per condition, per group, DE genes; - for stdout)")
    public static let de = Option<String?>("de", "FILE", default: nil,
                                           help: "DE genes to use: TSV with columns condition, genes (comma-separated names)")
    public static let deOut = Option<String?>("de-out", "FILE", default: nil,
                                              help: "write the DE genes used (same format as --de; - for stdout)")
    public static let nDE = Option<Int>("n-de", "N", default: 20, .atLeast(1), help: "DE genes per condition")
    public static let l2Genes = Option<Int>("l2-genes", "N", default: 1000, .atLeast(1),
                                            help: "genes with the highest control mean for l2_top1000")
    public static let blockSize = Option<Int>("block-size", "N", default: 32, .atLeast(2),
                                              help: "cells per side in the rmse_norm, mmd and r2_dvae blocks")
    public static let set = Option<SplitSet>("set", "NAME", default: .test, help: "split set whose cells are the truth")
    public static let genes = Option<String?>("genes", "FILE", default: nil, defaultText: "genes.tsv beside expr.npy",
                                              help: "gene names (pv-normalize's genes.tsv)")
    public static let controlSet = Option<ControlSet>("control-set", "all|test", default: .all,
                                                      help: "control cells whose mean is c for the deltas (test: pv-split --control-holdout)")
    public static let reference = Option<String?>("reference", "NAME", default: nil, defaultText: "additive when given",
                                                  help: "prediction the others are compared with, condition by condition")
    public static let seed = Option.seed(help: "seed of the ceiling's half split and the bootstrap")
    public static let allowMissing = Option(flag: "allow-missing",
                                            help: "skip predicted conditions that have no true cells instead of failing")

    // Identifiability mode (IdentifiabilityReport): learned latents against a simulation's true ones.
    public static let latents = Option<String?>("latents", "FILE", default: nil, group: "Identifiability",
                                                help: "learned latents (pv-predict --latents) to score instead of --pred")
    public static let trueLatents = Option<String?>("true-latents", "FILE", default: nil, group: "Identifiability",
                                                    help: "pv-simulate's latents.npy to score --latents against")
    public static let trueCells = Option<String?>("true-cells", "FILE", default: nil, group: "Identifiability",
                                                  defaultText: "barcodes.tsv beside --true-latents", help: "barcodes of latents.npy's rows (first column)")
    public static let trueResp = Option<Int?>("true-resp", "N", default: nil, .atLeast(1), group: "Identifiability",
                                              defaultText: "from truth.npz beside --true-latents", help: "true z_nu components (latents.npy's first columns)")
    /// The options of the --pred mode that the identifiability mode has no use for.
    public static let predictionOnly: [any OptionDeclaration] = [pred, out, de, deOut, reference]

    public static let all: [any OptionDeclaration] = [pred, out, json, de, deOut, nDE, l2Genes, blockSize, set, genes,
                                                      controlSet, reference, seed, allowMissing,
                                                      latents, trueLatents, trueCells, trueResp]
}

extension ScoreSettings {
    /// The settings a parsed pv-score command line asks for.
    public init(_ o: Options) {
        self.init()
        nDE = o[ScoreOptions.nDE]
        l2Genes = o[ScoreOptions.l2Genes]
        blockSize = o[ScoreOptions.blockSize]
        set = o[ScoreOptions.set]
        allowMissing = o[ScoreOptions.allowMissing]
        deFile = o[ScoreOptions.de]
        controlSet = o[ScoreOptions.controlSet]
        reference = o[ScoreOptions.reference]
        seed = UInt64(o[ScoreOptions.seed])
    }
}
