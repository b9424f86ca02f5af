import Foundation

/// The honest yardsticks (DESIGN.md §5, §6) as model kinds that share pv's model file and pv-predict.
/// Each predicts a mean change from control per condition; pv-predict shifts real control cells by it.
///
/// Every baseline is fitted on the training cells only (split set `train`); the training control cells give
/// `control_mean` [G]. Kinds and their tensors:
/// - `control`: no change (delta 0 for every condition).
/// - `mean`: `mean_delta` [G], the mean over training perturbation conditions of each condition's mean change
///   (every condition counts once, whatever its cell count).
/// - `additive`: `deltas` [C, G], the mean change of every training condition (meta `conditions`, `n_cells`).
///   A condition seen in training predicts its own training mean; an unseen combination predicts the sum of its
///   genes' single-gene changes (log scale). With options.rank = r (pv-train `--rank r`) the single-gene rows
///   are replaced by their projection on the top r principal components of the single-gene changes:
///   m + U_r U_rᵀ (S − m), S the K x G single-gene changes, m their mean (meta `rank`); seen doubles keep their
///   own training mean. This is the low-rank additive yardstick of DESIGN.md §5.
/// - `linear`: Ahlmann-Eltze et al. (2025) linear model, see `LinearBaseline`.
///
/// `control` and `mean` predict the same change for every condition and so accept any condition; `additive` and
/// `linear` need every gene of a condition among the model's targets.
public enum Baselines {
    /// Kinds handled here (pv-train --model KIND), as model files name them.
    public static let kinds = ModelKind.allCases.filter { $0 != .pvae }.map(\.rawValue)

    /// Fits a baseline on the training cells of `split` and returns its model file.
    public static func train(kind: ModelKind, expr: UnsafeBufferPointer<Float>, rows: Int, cols: Int,
                             split: SplitTable, genes: [String], options: BaselineOptions = BaselineOptions()) throws -> ModelFile {
        guard kind != .pvae else {
            throw PVError.usage("pvae is not a baseline kind (expected one of \(kinds.joined(separator: ", ")))")
        }
        guard genes.count == cols else {
            throw PVError.badInput(file: "genes", "has \(genes.count) genes but the expression matrix has \(cols) columns")
        }
        let t = try TrainingMeans(expr: expr, rows: rows, cols: cols, split: split)
        let singles = t.conditions.filter { Condition.genes($0).count == 1 }
        var meta: [String: Any] = ["n_control_cells": t.nControl, "n_train_conditions": t.conditions.count]
        let controlMean = t.control.map { Float($0) }

        switch kind {
        case .control, .mean:
            let allGenes = Set(t.conditions.flatMap { Condition.genes($0) }).sorted()
            var m = ModelFile(kind: kind.rawValue, genes: genes, targets: allGenes, meta: meta)
            m.set("control_mean", controlMean, shape: [cols])
            if kind == .mean {
                guard !t.conditions.isEmpty else {
                    throw PVError.badInput(file: split.name, "no perturbed training cells: the mean baseline needs at least one training condition")
                }
                var acc = [Double](repeating: 0, count: cols)
                for k in t.conditions.indices { for g in 0..<cols { acc[g] += t.means[k * cols + g] - t.control[g] } }
                let inv = 1 / Double(t.conditions.count)
                m.set("mean_delta", acc.map { Float($0 * inv) }, shape: [cols])
            }
            return m

        case .additive:
            var deltas = [Float](repeating: 0, count: t.conditions.count * cols)
            for k in t.conditions.indices {
                for g in 0..<cols { deltas[k * cols + g] = Float(t.means[k * cols + g] - t.control[g]) }
            }
            if let r = options.rank {
                guard r >= 1 else { throw PVError.usage("--rank must be at least 1, got \(r)") }
                guard !singles.isEmpty else {
                    throw PVError.badInput(file: split.name, "no single-gene training conditions to project (--rank)")
                }
                let rows = singles.map { t.conditions.firstIndex(of: $0)! }
                let projected = lowRank(rows.map { t.change($0) }, rank: r, cols: cols)
                for (i, k) in rows.enumerated() {
                    for g in 0..<cols { deltas[k * cols + g] = Float(projected[i * cols + g]) }
                }
                meta["rank"] = r
            }
            meta["conditions"] = t.conditions
            meta["n_cells"] = t.counts
            var m = ModelFile(kind: kind.rawValue, genes: genes, targets: singles.map { Condition.genes($0)[0] }, meta: meta)
            m.set("control_mean", controlMean, shape: [cols])
            m.set("deltas", deltas, shape: [t.conditions.count, cols])
            return m

        case .linear, .pvae:
            let dims = options.pca, ridge = options.ridge
            guard dims >= 1 else { throw PVError.usage("--pca must be at least 1, got \(dims)") }
            guard ridge >= 0 else { throw PVError.usage("--ridge must be non-negative, got \(ridge)") }
            return try LinearBaseline.fit(t, genes: genes, dims: dims, ridge: ridge, meta: meta, splitName: split.name)
        }
    }

    /// The predicted mean change from the control mean for a canonical condition (length = genes).
    public static func delta(model: ModelFile, condition: String) throws -> [Float] {
        let g = model.genes.count
        let cond = LabelSyntax().canonical(condition)
        if cond == Condition.control { return [Float](repeating: 0, count: g) }
        switch model.kind {
        case "control":
            return [Float](repeating: 0, count: g)
        case "mean":
            return try model.tensor("mean_delta", shape: [g])
        case "additive":
            let conds = model.meta["conditions"] as? [String] ?? []
            let deltas = try model.tensor("deltas", shape: [conds.count, g])
            if let k = conds.firstIndex(of: cond) { return Array(deltas[(k * g)..<((k + 1) * g)]) }
            try requireTargets(model, cond)
            var out = [Float](repeating: 0, count: g)
            for gene in Condition.genes(cond) {
                guard let k = conds.firstIndex(of: gene) else { try requireTargets(model, gene); continue }
                for j in 0..<g { out[j] += deltas[k * g + j] }
            }
            return out
        case "linear":
            try requireTargets(model, cond)
            return try LinearBaseline.delta(model, genes: Condition.genes(cond))
        default:
            throw PVError.usage("model kind '\(model.kind)' is not a baseline (baselines: \(kinds.joined(separator: ", ")))")
        }
    }

    /// Genes of `condition` that the model cannot predict (empty for `control` and `mean`, which predict any condition).
    public static func missingTargets(model: ModelFile, condition: String) -> [String] {
        if model.kind == "control" || model.kind == "mean" { return [] }
        let known = Set(model.targets)
        return Condition.genes(LabelSyntax().canonical(condition)).filter { !known.contains($0) }
    }

    static func requireTargets(_ model: ModelFile, _ cond: String) throws {
        let missing = missingTargets(model: model, condition: cond)
        if missing.isEmpty { return }
        let list = missing.joined(separator: ", ")
        throw PVError.usage("cannot predict condition '\(cond)': gene\(missing.count == 1 ? "" : "s") \(list) "
            + "\(missing.count == 1 ? "is" : "are") not among the \(model.targets.count) perturbation targets of this "
            + "\(model.kind) model (see pv-predict --list-targets model.npz)")
    }

    /// Rows of `changes` (K x G) projected on their top `rank` principal components: m + U_r U_rᵀ (S − m).
    static func lowRank(_ changes: [[Double]], rank: Int, cols: Int) -> [Double] {
        let k = changes.count
        var mean = [Double](repeating: 0, count: cols)
        for row in changes { for g in 0..<cols { mean[g] += row[g] } }
        for g in 0..<cols { mean[g] /= Double(k) }
        var centered = [Float](repeating: 0, count: k * cols)
        for i in 0..<k { for g in 0..<cols { centered[i * cols + g] = Float(changes[i][g] - mean[g]) } }
        // Gram matrix (K x K) of the centred changes; its eigenvectors are the left singular vectors U.
        var gram = [Float](repeating: 0, count: k * k)
        centered.withUnsafeBufferPointer { c in
            gram.withUnsafeMutableBufferPointer { gm in
                BLAS.gemm(transB: true, m: k, n: k, k: cols, a: c.baseAddress!, lda: cols, b: c.baseAddress!, ldb: cols,
                          c: gm.baseAddress!, ldc: k)
            }
        }
        var sym = [Double](repeating: 0, count: k * k)
        for i in 0..<k { for j in 0..<k { sym[i * k + j] = 0.5 * Double(gram[i * k + j] + gram[j * k + i]) } }
        let (_, u) = SymmetricEigen.decompose(sym, n: k)
        let r = min(rank, k)
        // P = U_r U_rᵀ (K x K), then projected = m + P (S − m).
        var p = [Double](repeating: 0, count: k * k)
        for i in 0..<k { for j in 0..<k {
            var s = 0.0
            for c in 0..<r { s += u[i * k + c] * u[j * k + c] }
            p[i * k + j] = s
        } }
        var out = [Double](repeating: 0, count: k * cols)
        for i in 0..<k {
            for g in 0..<cols { out[i * cols + g] = mean[g] }
            for j in 0..<k where p[i * k + j] != 0 {
                let w = p[i * k + j]
                for g in 0..<cols { out[i * cols + g] += w * Double(centered[j * cols + g]) }
            }
        }
        return out
    }
}

/// The baselines' settings (pv-train --rank, --pca, --ridge); defaults from `TrainOptions`.
public struct BaselineOptions: Sendable {
    /// additive: rank of the projection of the single-gene changes; nil: plain additive.
    public var rank = TrainOptions.rank.defaultValue
    /// linear: PCA dimensions.
    public var pca = TrainOptions.pca.defaultValue
    /// linear: ridge penalty.
    public var ridge = TrainOptions.ridge.defaultValue

    public init(rank: Int? = TrainOptions.rank.defaultValue, pca: Int = TrainOptions.pca.defaultValue,
                ridge: Double = TrainOptions.ridge.defaultValue) {
        self.rank = rank; self.pca = pca; self.ridge = ridge
    }

    /// The settings of a parsed pv-train command line.
    public init(_ o: Options) {
        self.init(rank: o[TrainOptions.rank], pca: o[TrainOptions.pca], ridge: o[TrainOptions.ridge])
    }
}
