import Foundation
import PVShared

let description = """
Predicts cells under perturbations, including double-gene combinations never seen in training, by starting from \
real control cells of split.tsv (set 'train'; other sets when it has none). Writes DIR/pred.npy (cells x genes, \
float32, never negative), DIR/pred.tsv (row, condition, control_barcode), and each condition's predicted mean in \
DIR/means.npy (conditions x genes) with DIR/means.tsv (row, condition): for a baseline exactly (mean of the training \
controls) + predicted change, for PerturbedVAE its expectation over every training control cell. pv-score reads the \
means from there. The control cells of each condition depend only on --seed and its name, the same for every model.

Conditions: every test condition of split.tsv (those with a gene the model was not trained on are skipped with a
warning), or --conditions. A given condition with an unknown gene is an error; see the known targets with
pv-predict --list-targets model.npz.
--predict prior decodes from the condition's prior (DESIGN.md §5); --predict delta adds f(u) - f(0) to each control
cell with a common noise draw, which removes a shared control offset (much lower MSE on small screens).
Baseline models (pv-train --model control|mean|additive|linear) shift real control cells by their predicted
change (cells clamped at 0).
"""

runTool("pv-predict") {
    let o = try Options(tool: "pv-predict", synopsis: PredictOptions.synopsis, description: description,
                        options: PredictOptions.all, positionals: 1...3)
    if o[PredictOptions.listTargets] {
        for t in try ModelFile(path: o.positionals[0]).targets { print(t) }
        return
    }
    info(try PredictJob(o).run())
}
