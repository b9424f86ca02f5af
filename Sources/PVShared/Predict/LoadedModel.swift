import Foundation

/// A model file ready to predict: the one loader of pv-predict (and of tests that predict in-process).
/// Everything about the model is checked here, before any output is created.
public struct LoadedModel {
    public let file: ModelFile
    /// The path as messages show it.
    public let name: String
    public let predictor: any Predictor
    /// The PerturbedVAE behind `predictor` (an ensemble's first member), for the interpretability outputs; nil for
    /// baselines.
    public let pvae: PVPredictor?
    /// Every member of a pvae model file (one unless trained with --ensemble N); empty for baselines.
    public let members: [PVPredictor]

    /// Loads `path` for an expression matrix of `cols` genes (named by genes.tsv beside `exprPath`, when present,
    /// which must be the model's genes in its order). `batch` is the rows per forward pass of a PerturbedVAE.
    public init(path: String, cols: Int, exprPath: String, batch: Int = 256, mode: PredictMode = .prior,
                meanDraws: Int = 1) throws {
        let model = try ModelFile(path: path)
        let mname = displayName(path)
        guard model.genes.count == cols else {
            throw PVError.badInput(file: mname, "model has \(model.genes.count) genes but \(displayName(exprPath)) has \(cols) columns")
        }
        // The same gene count from another normalisation would otherwise be decoded silently into the wrong columns.
        if let gpath = GeneNames.besideExpr(exprPath) {
            let names = try GeneNames.read(gpath, cols: cols)
            if let j = names.indices.first(where: { names[$0] != model.genes[$0] }) {
                throw PVError.badInput(file: displayName(gpath), "gene \(j + 1) is '\(names[j])' but \(mname) has '\(model.genes[j])' there: \(displayName(exprPath)) is not from the pv-normalize run the model was trained on")
            }
        }
        try self.init(model: model, name: mname, batch: batch, mode: mode, meanDraws: meanDraws)
    }

    /// Loads `path` to inspect the model itself (training history, learned graph), with no expression matrix to
    /// check its genes against.
    public init(path: String) throws {
        try self.init(model: try ModelFile(path: path), name: displayName(path), batch: 1)
    }

    private init(model: ModelFile, name mname: String, batch: Int, mode: PredictMode = .prior, meanDraws: Int = 1) throws {
        file = model; name = mname
        if model.kind == "pvae" {
            // An ensemble's members share one configuration; each has its own weights (`ModelFile.member`).
            let cfg = try PVModelIO.config(of: model, file: mname)
            // The sizes in meta.json must be those of the tensors, checked before the network is allocated: a
            // forged or corrupt meta.json would otherwise allocate a network of any size before any tensor is read.
            guard cfg.parameterCount.value != nil else {
                throw PVError.badInput(file: mname, "meta.json's sizes (hidden \(cfg.hidden), latent_inv \(cfg.latentInv), latent_resp \(cfg.latentResp)) overflow a parameter count")
            }
            for (name, shape, _) in cfg.tensors { _ = try model.tensor(name, shape: shape, file: mname) }
            try MemoryBudget.require(cfg.memoryNeeded(rows: max(batch, model.targets.count + 1), parameterCopies: 2),
                                     for: "--batch \(batch) with the sizes of \(mname)")
            var ps: [PVPredictor] = []
            for k in 0..<model.memberCount {
                let vae = PerturbedVAE(config: cfg, maxRows: max(batch, model.targets.count + 1))
                try PVModelIO.loadWeights(try model.member(k, file: mname), into: vae.store, file: mname)
                let p = PVPredictor(vae: vae, targets: model.targets)
                p.mode = mode; p.meanDraws = meanDraws
                ps.append(p)
            }
            members = ps
            predictor = ps.count == 1 ? ps[0] : EnsemblePredictor(members: ps)
            pvae = ps[0]
        } else {
            guard Baselines.kinds.contains(model.kind) else {
                throw PVError.badInput(file: mname, "model kind '\(model.kind)' is unknown (expected pvae or a baseline: \(Baselines.kinds.joined(separator: ", ")))")
            }
            // Every tensor (control_mean, mean_delta, deltas, the linear model's factors) shifts the cells.
            try model.requireFinite(file: mname)
            predictor = BaselinePredictor(model: model, file: mname); pvae = nil; members = []
        }
    }
}
