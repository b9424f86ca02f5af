import Foundation

/// pv-export's options, declared once: help, parsing and bounds come from here.
public enum ExportOptions {
    static let cellEvalOnly = "with --cell-eval"
    public static let out = Option<String?>("out", short: "o", "PATH", default: nil,
                                            help: "the store (expr.zarr), or with --cell-eval the folder for real.zarr and NAME.zarr")
    public static let split = Option<String?>("split", "FILE", default: nil,
                                              help: "add condition, set and group from pv-split's split.tsv to obs")
    public static let compress = Option<Int>("compress", "LEVEL", default: 1, .within(0, 9),
                                             help: "zlib level of every chunk, 1-9; 0 stores raw chunks")
    public static let chunkRows = Option<Int?>("chunk-rows", "N", default: nil, .atLeast(1),
                                               defaultText: "about 4 MiB per chunk", help: "cells per chunk of X")
    public static let cellEval = Option(flag: "cell-eval", group: "cell-eval", help: "write the real/predicted pair cell-eval compares")
    public static let pred = Option<String>("pred", "NAME=PRED_DIR", default: "", group: "cell-eval", repeatable: true,
                                            help: "a prediction (pv-predict's folder, or its pred.npy)")
    public static let controlLabel = Option<String>("control-label", "LABEL", default: "non-targeting", group: "cell-eval",
                                                    help: "'target' of control cells (cell-eval's --control-pert)")
    public static let set = Option<SplitSet>("set", "NAME", default: .test, group: "cell-eval",
                                             help: "split set whose cells are the truth")

    public static let all: [any OptionDeclaration] = [out, split, compress, chunkRows, cellEval, pred, controlLabel, set]
    /// The options that only --cell-eval reads.
    public static let cellEvalOptions: [any OptionDeclaration] = [pred, controlLabel, set]
}

extension AnnDataZarr {
    /// The writer a parsed pv-export command line asks for (--compress, --chunk-rows).
    public init(_ o: Options) {
        let level = o[ExportOptions.compress]
        self.init(compressor: level == 0 ? .none : .zlib(level: level), chunkRows: o[ExportOptions.chunkRows])
    }
}
