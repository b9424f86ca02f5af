import Foundation
import PVShared

let description = """
Draws a synthetic Perturb-seq screen from the PerturbedVAE generative model, with known causal
truth.
Latents: background z_iota ~ N(0, I) (--latent-inv dims); response z_nu from a random sparse DAG
(--latent-resp nodes, strictly lower-triangular Lambda_nn with --edge-density, background inputs
Lambda_ni). Each target T01.. shifts the noise mean of one or two nodes by about --effect (noise sds
are 0.5-1), and half of the targets also cut the incoming edges of their nodes; a double applies
both targets' interventions, so its effect is not the sum of the singles' (the DAG propagates them
and the decoder is nonlinear). Expression: a random tanh decoder to per-gene log-rates (panel genes
G0001..; targets are not panel genes), log-normal library sizes, negative-binomial counts with
gene-specific dispersion.
Conditions: ctrl, every single target, --doubles random pairs of targets. Each gets
--cells-per-condition cells, or --cells in total spread evenly (the first conditions get one more);
give one of the two.
Output folder: matrix.mtx.gz (Matrix Market integer, genes x cells, as 10x writes it), barcodes.tsv,
features.tsv (id, symbol, Gene Expression), cells.tsv (barcode<TAB>label, no header, labels ctrl /
T01 / T01+T02; a first line `# run: ID`, as in the matrix's comments, tells this run's files from
another's), truth.npz (lambda_nn, lambda_ni, noise_sd, intervention [K,dN], cut_edges [K,dN],
condition_u [C,K], latent_mean [C,dN], expr_mean and expr_mean_obs [C,G], cells_per_condition,
decoder and count parameters, meta.json with condition, gene and target names and the definitions),
latents.npy (float32 [cells, d_nu + d_iota]: row i is the cell of line i of cells.tsv, columns its
true z_nu then its true z_iota). The same options and seed give byte-identical files.
"""

runTool("pv-simulate") {
    let o = try Options(tool: "pv-simulate", synopsis: "pv-simulate [options] --out DIR", description: description,
                        options: SimOptions.all, positionals: 0...0)
    let outDir = try o.required(SimOptions.out)
    if outDir == "-" { throw PVError.usage("--out must be a folder; the screen is several files and cannot go to stdout ('-')") }
    let p = try SimParams(o)
    let C = 1 + p.targets + p.doubles
    if let t = p.totalCells, t < C { warn("--cells \(t) is fewer than the \(C) conditions: some conditions get no cells") }

    let s = try simulateScreen(p, outDir: outDir)
    info("\(s.cells) cells x \(s.genes) genes, \(s.conditions) conditions (ctrl, \(p.targets) singles, \(p.doubles) doubles) -> \(outDir)")
    info(String(format: "median UMIs per cell %.0f, median genes per cell %.0f, %.1f%% of entries zero",
                s.medianTotal, s.medianGenes, 100 * s.sparsity))
    info(String(format: "true mean |log-expression change|: singles %.4f, doubles %.4f; doubles' deviation from additive %.4f (%.0f%% of their effect)",
                s.singleEffect, s.doubleEffect, s.doubleNonAdditive, s.doubleEffect > 0 ? 100 * s.doubleNonAdditive / s.doubleEffect : 0))
}
