import Foundation

/// The linear baseline of Ahlmann-Eltze, Huber & Anders (Nature Methods 2025), as their benchmark script
/// `run_linear_pretrained_model.R` (const-ae/linear_perturbation_prediction-Paper) computes it with
/// `--gene_embedding training_data --pert_embedding training_data`, pca_dim 10, ridge 0.1:
///
/// 1. Pseudobulk: the mean expression of every training condition, control included (matrix X, G x P').
/// 2. Gene embedding A (G x d): the PCA scores of the genes in X (`prcomp_irlba(X, n = d)`: rows are genes,
///    each condition column centred over genes, not scaled), i.e. Xc V_d.
/// 3. Perturbation embedding of target t: the row of A for gene t (so only targets that are measured genes have
///    one); control's embedding is 0; a combination's embedding is the sum of its genes' rows (as their
///    `run_lpm_double_prediction.R` intends).
/// 4. Y (G x P): the change from the control mean of the training singles with an embedding, and control itself
///    (change 0, embedding 0). center = row means of Y; K = (AᵀA + λI)⁻¹ Aᵀ (Y − center) Bᵀ (BBᵀ + λI)⁻¹.
/// 5. Predicted change for embedding b: A K b + center. Training conditions are predicted by the model too.
///
/// Tensors: `control_mean` [G], `gene_embedding` [G, d], `coef` [d, d], `center` [G], `target_embedding` [T, d].
enum LinearBaseline {
    static func fit(_ t: TrainingMeans, genes: [String], dims requested: Int, ridge: Double,
                    meta baseMeta: [String: Any], splitName: String) throws -> ModelFile {
        let g = t.cols
        // 1-2. Pseudobulk matrix (G x P', control first) centred per column, then its top principal components.
        let p1 = t.conditions.count + 1
        var xc = [Float](repeating: 0, count: g * p1)
        for c in 0..<p1 {
            let col: (Int) -> Double = { c == 0 ? t.control[$0] : t.means[(c - 1) * g + $0] }
            var mean = 0.0
            for i in 0..<g { mean += col(i) }
            mean /= Double(g)
            for i in 0..<g { xc[i * p1 + c] = Float(col(i) - mean) }
        }
        var gram = [Float](repeating: 0, count: p1 * p1)
        xc.withUnsafeBufferPointer { x in
            gram.withUnsafeMutableBufferPointer { gm in
                BLAS.gemm(transA: true, m: p1, n: p1, k: g, a: x.baseAddress!, lda: p1, b: x.baseAddress!, ldb: p1,
                          c: gm.baseAddress!, ldc: p1)
            }
        }
        let sym = (0..<(p1 * p1)).map { 0.5 * Double(gram[$0] + gram[($0 % p1) * p1 + $0 / p1]) }
        let (_, v) = SymmetricEigen.decompose(sym, n: p1)
        let d = min(requested, p1)
        var vd = [Float](repeating: 0, count: p1 * d)
        for i in 0..<p1 { for j in 0..<d { vd[i * d + j] = Float(v[i * p1 + j]) } }
        var a = [Float](repeating: 0, count: g * d)
        xc.withUnsafeBufferPointer { x in
            vd.withUnsafeBufferPointer { vv in
                a.withUnsafeMutableBufferPointer { aa in
                    BLAS.gemm(m: g, n: d, k: p1, a: x.baseAddress!, lda: p1, b: vv.baseAddress!, ldb: d,
                              c: aa.baseAddress!, ldc: d)
                }
            }
        }
        // 3. Targets: training singles whose gene is measured.
        let geneIndex = Dictionary(genes.enumerated().map { ($1, $0) }, uniquingKeysWith: { f, _ in f })
        var targets: [String] = [], targetRows: [Int] = [], trainCols: [Int] = []
        for (k, c) in t.conditions.enumerated() {
            let gs = Condition.genes(c)
            if gs.count == 1, let row = geneIndex[gs[0]] { targets.append(gs[0]); targetRows.append(row); trainCols.append(k) }
        }
        guard !targets.isEmpty else {
            throw PVError.badInput(file: splitName, "the linear baseline needs training single-gene conditions whose gene is among the measured genes; none found")
        }
        // 4. Y (G x P) with control as the last column, centred per gene; B (d x P).
        let p = targets.count + 1
        var center = [Double](repeating: 0, count: g)
        var y = [Double](repeating: 0, count: g * p)
        for i in 0..<g {
            for (j, k) in trainCols.enumerated() { y[i * p + j] = t.means[k * g + i] - t.control[i] }
            var s = 0.0
            for j in 0..<p { s += y[i * p + j] }
            center[i] = s / Double(p)
            for j in 0..<p { y[i * p + j] -= center[i] }
        }
        var b = [Double](repeating: 0, count: d * p)
        for (j, row) in targetRows.enumerated() { for q in 0..<d { b[q * p + j] = Double(a[row * d + q]) } }
        // AᵀA + λI and AᵀYc (d x d, d x P), in Double (small).
        var ata = [Double](repeating: 0, count: d * d)
        var aty = [Double](repeating: 0, count: d * p)
        for i in 0..<g {
            for q in 0..<d {
                let aq = Double(a[i * d + q])
                for r in 0..<d { ata[q * d + r] += aq * Double(a[i * d + r]) }
                for j in 0..<p { aty[q * p + j] += aq * y[i * p + j] }
            }
        }
        for q in 0..<d { ata[q * d + q] += ridge }
        var bbt = [Double](repeating: 0, count: d * d)
        for q in 0..<d { for r in 0..<d { for j in 0..<p { bbt[q * d + r] += b[q * p + j] * b[r * p + j] } } }
        for q in 0..<d { bbt[q * d + q] += ridge }
        // M = (AᵀA + λI)⁻¹ AᵀYc, column by column (d x P).
        var m = [Double](repeating: 0, count: d * p)
        for j in 0..<p {
            guard let x = SymmetricEigen.solveSPD(ata, (0..<d).map { aty[$0 * p + j] }, n: d) else {
                throw PVError.numerical("linear baseline: AᵀA + ridge is singular; use a positive --ridge")
            }
            for q in 0..<d { m[q * p + j] = x[q] }
        }
        // N = M Bᵀ (d x d); K = N (BBᵀ + λI)⁻¹, i.e. rows of K solve (BBᵀ + λI) kᵀ = nᵀ (symmetric).
        var coef = [Float](repeating: 0, count: d * d)
        for q in 0..<d {
            var nrow = [Double](repeating: 0, count: d)
            for r in 0..<d { for j in 0..<p { nrow[r] += m[q * p + j] * b[r * p + j] } }
            guard let k = SymmetricEigen.solveSPD(bbt, nrow, n: d) else {
                throw PVError.numerical("linear baseline: BBᵀ + ridge is singular; use a positive --ridge")
            }
            for r in 0..<d { coef[q * d + r] = Float(k[r]) }
        }
        var meta = baseMeta
        meta["pca_dims"] = d
        meta["ridge"] = ridge
        meta["method"] = "Ahlmann-Eltze et al. 2025 linear model: gene and perturbation embeddings from the PCA of the training pseudobulk"
        var model = ModelFile(kind: "linear", genes: genes, targets: targets, meta: meta)
        model.set("control_mean", t.control.map { Float($0) }, shape: [g])
        model.set("gene_embedding", a, shape: [g, d])
        model.set("coef", coef, shape: [d, d])
        model.set("center", center.map { Float($0) }, shape: [g])
        var temb = [Float](repeating: 0, count: targets.count * d)
        for (j, row) in targetRows.enumerated() { for q in 0..<d { temb[j * d + q] = a[row * d + q] } }
        model.set("target_embedding", temb, shape: [targets.count, d])
        return model
    }

    /// A K (Σ b_gene) + center.
    static func delta(_ model: ModelFile, genes cgenes: [String]) throws -> [Float] {
        let g = model.genes.count
        guard let shape = model.shape("coef"), shape.count == 2 else {
            throw PVError.badInput(file: model.source, "linear model has no tensor 'coef'")
        }
        let d = shape[0]
        let a = try model.tensor("gene_embedding", shape: [g, d])
        let coef = try model.tensor("coef", shape: [d, d])
        let center = try model.tensor("center", shape: [g])
        let temb = try model.tensor("target_embedding", shape: [model.targets.count, d])
        var b = [Double](repeating: 0, count: d)
        for gene in cgenes {
            guard let j = model.targets.firstIndex(of: gene) else { continue }
            for q in 0..<d { b[q] += Double(temb[j * d + q]) }
        }
        var kb = [Double](repeating: 0, count: d)
        for q in 0..<d { for r in 0..<d { kb[q] += Double(coef[q * d + r]) * b[r] } }
        var out = [Float](repeating: 0, count: g)
        for i in 0..<g {
            var s = Double(center[i])
            for q in 0..<d { s += Double(a[i * d + q]) * kb[q] }
            out[i] = Float(s)
        }
        return out
    }
}
