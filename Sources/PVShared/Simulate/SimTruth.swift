import Foundation

/// The ground truth of a simulated screen as `truth.npz`: the generating SCM and interventions, the decoder and count
/// parameters, per-condition latent means and true mean log-normalised expression, and `meta.json` with the names
/// (conditions, genes, targets), the parameters and the definitions. Also fills the effect sizes of `summary`.
func simulationTruth(_ model: SimModel, counts: [Int], exprSum: [Double], obsSum: [Double], targetSum S: Double,
                     summary sm: inout SimSummary) throws -> NPZ {
    let p = model.p, dN = model.dN, dI = model.dI, dZ = model.dZ, G = p.genes, H = p.hidden, K = p.targets
    let C = model.conditions.count, N = sm.cells, nnz = sm.nonzeros
    var exprMean = [Float](repeating: 0, count: C * G), obsMean = [Float](repeating: 0, count: C * G)
    for c in 0..<C where counts[c] > 0 {
        for g in 0..<G {
            exprMean[c * G + g] = Float(exprSum[c * G + g] / Double(counts[c]))
            obsMean[c * G + g] = Float(obsSum[c * G + g] / Double(counts[c]))
        }
    }
    var latent = [Float](), uMat = [Float](repeating: 0, count: C * K)
    for (c, ts) in model.conditionTargets.enumerated() {
        latent += model.latentMean(ts)
        for k in ts { uMat[c * K + k] = 1 }
    }
    func meanAbs(_ f: (Int) -> Float) -> Double { (0..<G).reduce(0.0) { $0 + Double(abs(f($1))) } / Double(max(G, 1)) }
    var nDouble = 0, perDouble: [[String: Double]] = []
    for (c, ts) in model.conditionTargets.enumerated() {
        if ts.count == 1 { sm.singleEffect += meanAbs { exprMean[c * G + $0] - exprMean[$0] } / Double(K) }
        if ts.count == 2 {
            let a = 1 + ts[0], bb = 1 + ts[1]
            let dev = meanAbs { exprMean[c * G + $0] - (exprMean[a * G + $0] + exprMean[bb * G + $0] - exprMean[$0]) }
            let eff = meanAbs { exprMean[c * G + $0] - exprMean[$0] }
            sm.doubleNonAdditive += dev; sm.doubleEffect += eff; nDouble += 1
            perDouble.append(["nonadditive": dev, "effect": eff])
        }
    }
    if nDouble > 0 { sm.doubleNonAdditive /= Double(nDouble); sm.doubleEffect /= Double(nDouble) }

    var npz = NPZ()
    npz.add("lambda_nn", model.lambdaNN, shape: [dN, dN])
    npz.add("lambda_ni", model.lambdaNI, shape: [dN, dI])
    npz.add("noise_sd", model.noiseSD, shape: [dN])
    npz.add("intervention", model.intervention, shape: [K, dN])
    npz.add("cut_edges", model.cutEdges, shape: [K, dN])
    npz.add("condition_u", uMat, shape: [C, K])
    npz.add("latent_mean", latent, shape: [C, dN])
    npz.add("expr_mean", exprMean, shape: [C, G])
    npz.add("expr_mean_obs", obsMean, shape: [C, G])
    npz.add("cells_per_condition", ints: counts.map(Int64.init), shape: [C])
    npz.add("dec_w1", model.w1, shape: [dZ, H])
    npz.add("dec_b1", model.b1, shape: [H])
    npz.add("dec_w2", model.w2, shape: [H, G])
    npz.add("gene_base", model.geneBase, shape: [G])
    npz.add("dispersion_theta", model.theta, shape: [G])
    let meta: [String: Any] = [
        "tool": "pv-simulate", "version": pvVersion,
        "seed": p.seed, "conditions": model.conditions, "genes": model.geneNames, "targets": model.targetNames,
        "params": ["cells_per_condition": p.cellsPerCondition, "cells": p.totalCells ?? N, "genes": G, "targets": K,
                   "doubles": p.doubles, "latent_inv": dI, "latent_resp": dN, "edge_density": p.edgeDensity,
                   "effect": p.effect, "hidden": H, "library_size": p.medianLibrary, "library_sd": p.librarySD] as [String: Any],
        "normalize_target_sum": S,
        "definitions": [
            "latent_mean": "E[z_nu | u] = (I - Lambda_nn(u))^-1 mu_nu(u); z_iota has mean 0. Lambda_nn(u), Lambda_ni(u): rows of nodes cut by a target are zero; mu_nu(u) = sum of the targets' intervention rows.",
            "expr_mean": "mean over the condition's cells of log1p(S * pi_g), pi = softmax(gene_base + tanh([z_nu, z_iota] W1 + b1) W2), S = normalize_target_sum (median drawn library size): log-normalised expression without count noise",
            "expr_mean_obs": "mean over the condition's simulated cells of log1p(count * S / cell total): what normalize_total + log1p gives on the data",
            "counts": "negative binomial, mean library * pi_g, inverse dispersion dispersion_theta[g]; library ~ lognormal(log library_size, library_sd)",
        ],
        "summary": ["cells": N, "nonzeros": nnz, "sparsity": sm.sparsity, "median_total": sm.medianTotal,
                    "median_genes": sm.medianGenes, "single_mean_abs_effect": sm.singleEffect,
                    "double_mean_abs_effect": sm.doubleEffect, "double_mean_abs_nonadditive": sm.doubleNonAdditive] as [String: Any],
    ]
    let metaData = try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys, .prettyPrinted])
    npz.addRaw("meta.json", Array(metaData))
    return npz
}
