import Foundation

/// pv-simulate's options, declared once: help, parsing, bounds and `SimParams`' defaults come from here.
public enum SimOptions {
    public static let out = Option<String?>("out", short: "o", "DIR", default: nil, help: "output folder (created if needed); required")
    public static let cellsPerCondition = Option<Int>("cells-per-condition", "N", default: 200, .atLeast(1),
                                                      help: "cells in every condition (control included)")
    public static let cells = Option<Int?>("cells", "N", default: nil, .atLeast(1),
                                           help: "total cells, spread evenly over the conditions (instead of --cells-per-condition)")
    public static let genes = Option<Int>("genes", "N", default: 1000, .atLeast(1), help: "genes in the panel")
    public static let targets = Option<Int>("targets", "K", default: 20, .atLeast(1),
                                            help: "perturbation targets (each has a single-gene condition)")
    public static let doubles = Option<Int>("doubles", "N", default: 20, .atLeast(0),
                                            help: "double-target conditions, distinct random pairs of targets")
    public static let latentInv = Option<Int>("latent-inv", "N", default: 10, .atLeast(1), group: "Model",
                                              help: "background latent dimensions d_iota")
    public static let latentResp = Option<Int>("latent-resp", "N", default: 10, .atLeast(1), group: "Model",
                                               help: "response latent nodes d_nu (the causal graph)")
    public static let edgeDensity = Option<Double>("edge-density", "F", default: 0.3, .within(0, 1), group: "Model",
                                                   help: "probability of each edge j -> i (j < i) of the DAG")
    public static let effect = Option<Double>("effect", "F", default: 3, .atLeast(0), group: "Model",
                                              help: "size of each intervention's shift of a node's noise mean (x U(0.8, 1.2), random sign)")
    public static let librarySize = Option<Double?>("library-size", "N", default: nil, .atLeast(1), group: "Counts",
                                                    defaultWord: "auto",
                                                    help: "median library size in UMIs per cell (auto: one UMI per gene)")
    public static let librarySD = Option<Double>("library-sd", "F", default: 0.3, .within(0, 3), group: "Counts",
                                                 help: "standard deviation of log library size")
    public static let seed = Option.seed(help: "random seed (every random choice)")

    public static let all: [any OptionDeclaration] = [out, cellsPerCondition, cells, genes, targets, doubles, seed,
                                                      latentInv, latentResp, edgeDensity, effect, librarySize, librarySD]
}

extension SimParams {
    /// The parameters of a parsed pv-simulate command line; every inconsistency is named at once.
    public init(_ o: Options) throws {
        self.init()
        var errors = UsageErrors()
        errors.check(!(o.given(SimOptions.cells) && o.given(SimOptions.cellsPerCondition)),
                     "give --cells (total) or --cells-per-condition, not both")
        cellsPerCondition = o[SimOptions.cellsPerCondition]
        totalCells = o[SimOptions.cells]
        genes = o[SimOptions.genes]
        targets = o[SimOptions.targets]
        doubles = o[SimOptions.doubles]
        // Checked: --targets 9000000000 overflowed the product.
        let maxPairs = (CheckedSize(targets) * CheckedSize(targets - 1) / 2).value ?? Int.max
        errors.check(doubles <= maxPairs, "--doubles \(doubles) exceeds the \(maxPairs) pairs of \(targets) targets")
        latentInv = o[SimOptions.latentInv]
        latentResp = o[SimOptions.latentResp]
        edgeDensity = o[SimOptions.edgeDensity]
        effect = o[SimOptions.effect]
        librarySize = o[SimOptions.librarySize]
        librarySD = o[SimOptions.librarySD]
        seed = UInt64(o[SimOptions.seed])
        try errors.throwIfAny()
        // What the options would make the simulation allocate must fit in memory (also checked by simulateScreen).
        try requireMemory()
    }
}
