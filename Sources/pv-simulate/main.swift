import Foundation
import PVShared

let description = """
Draws a synthetic Perturb-seq screen from the PerturbedVAE generative model, with known causal truth.
Latents: background z_iota ~ N(0, I) (--latent-inv dims); response z_nu from a random sparse DAG (--latent-resp
nodes, strictly lower-triangular Lambda_nn with --edge-density, background inputs Lambda_ni). Each target T01..
shifts the noise mean of one or two nodes by about --effect (noise sds are 0.5-1), and half of the targets also
cut the incoming edges of their nodes; a double applies both targets' interventions, so its effect is not the
sum of the singles' (the DAG propagates them and the decoder is nonlinear). Expression: a random tanh decoder to per-gene log-rates
(panel genes G0001..; targets are not panel genes), log-normal library sizes, negative-binomial counts with
gene-specific dispersion.
Conditions: ctrl, every single target, --doubles random pairs of targets. Each gets --cells-per-condition cells,
or --cells in total spread evenly (the first conditions get one more); give one of the two.
Output folder: matrix.mtx.gz (Matrix Market integer, genes x cells, as 10x writes it), barcodes.tsv, features.tsv
(id, symbol, Gene Expression), cells.tsv (barcode<TAB>label, no header, labels ctrl / T01 / T01+T02; a first line `# run: ID`, as in the matrix's
comments, tells this run's files from another's), truth.npz
(lambda_nn, lambda_ni, noise_sd, intervention [K,dN], cut_edges [K,dN], condition_u [C,K], latent_mean [C,dN],
expr_mean and expr_mean_obs [C,G], cells_per_condition, decoder and count parameters, meta.json with condition,
gene and target names and the definitions), latents.npy (float32 [cells, d_nu + d_iota]: row i is the cell of line
i of cells.tsv, columns its true z_nu then its true z_iota). The same options and seed give byte-identical files.
"""

runTool("pv-simulate") {
    let o = try Options(tool: "pv-simulate", synopsis: "pv-simulate [options] --out DIR", description: description, specs: [
        OptionSpec("out", short: "o", value: "DIR", help: "output folder (created if needed); required"),
        OptionSpec("cells-per-condition", value: "N", default: "200", help: "cells in every condition (control included)"),
        OptionSpec("cells", value: "N", help: "total cells, spread evenly over the conditions (instead of --cells-per-condition)"),
        OptionSpec("genes", value: "N", default: "1000", help: "genes in the panel"),
        OptionSpec("targets", value: "K", default: "20", help: "perturbation targets (each has a single-gene condition)"),
        OptionSpec("doubles", value: "N", default: "20", help: "double-target conditions, distinct random pairs of targets"),
        OptionSpec("latent-inv", value: "N", default: "10", help: "background latent dimensions d_iota"),
        OptionSpec("latent-resp", value: "N", default: "10", help: "response latent nodes d_nu (the causal graph)"),
        OptionSpec("edge-density", value: "F", default: "0.3", help: "probability of each edge j -> i (j < i) of the DAG"),
        OptionSpec("effect", value: "F", default: "3", help: "size of each intervention's shift of a node's noise mean (x U(0.8, 1.2), random sign)"),
        OptionSpec("library-size", value: "N", default: "auto", help: "median library size in UMIs per cell (auto: one UMI per gene)"),
        OptionSpec("library-sd", value: "F", default: "0.3", help: "standard deviation of log library size"),
        OptionSpec("seed", value: "N", default: "0", help: "random seed (every random choice)"),
    ], positionals: 0...0)

    let outDir = try o.required("out")
    if outDir == "-" { throw PVError.usage("--out must be a folder; the screen is several files and cannot go to stdout ('-')") }
    var p = SimParams()
    if o.given("cells") && o.given("cells-per-condition") {
        throw PVError.usage("give --cells (total) or --cells-per-condition, not both")
    }
    p.cellsPerCondition = try o.int("cells-per-condition", atLeast: 1)
    if o.given("cells") { p.totalCells = try o.int("cells", atLeast: 1) }
    p.genes = try o.int("genes", atLeast: 1)
    p.targets = try o.int("targets", atLeast: 1)
    p.doubles = try o.int("doubles", atLeast: 0)
    let maxPairs = p.targets * (p.targets - 1) / 2
    guard p.doubles <= maxPairs else { throw PVError.usage("--doubles \(p.doubles) exceeds the \(maxPairs) pairs of \(p.targets) targets") }
    p.latentInv = try o.int("latent-inv", atLeast: 1)
    p.latentResp = try o.int("latent-resp", atLeast: 1)
    p.edgeDensity = try o.double("edge-density")
    guard (0...1).contains(p.edgeDensity) else { throw PVError.usage("--edge-density must be between 0 and 1, got \(p.edgeDensity)") }
    p.effect = try o.double("effect")
    guard p.effect >= 0 else { throw PVError.usage("--effect must be non-negative, got \(p.effect)") }
    p.librarySize = o.string("library-size") == "auto" ? Double(p.genes) : try o.double("library-size")
    guard p.librarySize >= 1 else { throw PVError.usage("--library-size must be at least 1, got \(p.librarySize)") }
    p.librarySD = try o.double("library-sd")
    guard p.librarySD >= 0 && p.librarySD <= 3 else { throw PVError.usage("--library-sd must be between 0 and 3, got \(p.librarySD)") }
    let seed = try o.int("seed")
    guard seed >= 0 else { throw PVError.usage("--seed must be non-negative, got \(seed)") }
    p.seed = UInt64(seed)
    let C = 1 + p.targets + p.doubles
    if let t = p.totalCells, t < C { warn("--cells \(t) is fewer than the \(C) conditions: some conditions get no cells") }

    let s = try simulateScreen(p, outDir: outDir)
    info("\(s.cells) cells x \(s.genes) genes, \(s.conditions) conditions (ctrl, \(p.targets) singles, \(p.doubles) doubles) -> \(outDir)")
    info(String(format: "median UMIs per cell %.0f, median genes per cell %.0f, %.1f%% of entries zero",
                s.medianTotal, s.medianGenes, 100 * s.sparsity))
    info(String(format: "true mean |log-expression change|: singles %.4f, doubles %.4f; doubles' deviation from additive %.4f (%.0f%% of their effect)",
                s.singleEffect, s.doubleEffect, s.doubleNonAdditive, s.doubleEffect > 0 ? 100 * s.doubleNonAdditive / s.doubleEffect : 0))
}
