import Foundation
import PVShared

let description = """
Trains a PerturbedVAE (DESIGN.md §5) on the training cells of split.tsv (set 'train'; controls are
partners, set 'val' selects the checkpoint) and writes model.npz (weights as .npy members, meta.json
with every hyperparameter, the gene and target lists, seed, version and the per-epoch loss history).

Defaults are the best measured configuration for unseen combinations (bench/fidelity/NOTES.md): an
ensemble of 3 members (seeds seed..seed+2, one file; pv-predict averages them and shrinks their
interaction term), 4,000 steps each at lr 1e-3, additive u-networks. --paper gives the paper's exact
hyperparameters (100 epochs, lr 1e-4, beta 1e-2, alpha 0.05, mlp u-networks, one member). Annealing
of beta and alpha is defined as fractions of all steps. With validation cells (set 'val') the output holds the weights of the epoch
that predicts them best (--val-metric). --model control|mean|additive|linear trains a baseline
instead (same model file, same pv-predict).

Diagnostics: --init-only writes the untrained model for --seed; --grad-check BATCH.npz MODEL.npz
writes the loss terms and the gradient of every tensor for one given batch (a gradient oracle for
other implementations; see README).
"""

runTool("pv-train") {
    let o = try Options(tool: "pv-train", synopsis: "pv-train [options] --out model.npz expr.npy split.tsv",
                        description: description, options: TrainOptions.all, positionals: 1...2)
    try TrainCommand.run(o)
}
