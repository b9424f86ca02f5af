import Foundation

/// pv-predict's interpretability outputs of a PerturbedVAE: posterior latents per cell and the learned graph.
public enum Interpretability {
    /// TSV of μ_ι and z_ν (posterior means) of every cell of `split` whose targets the model knows.
    public static func latentsTSV(_ p: PVPredictor, split: SplitTable, expr: UnsafePointer<Float>) -> String {
        var cells: [Int] = [], tg: [[Int]] = []
        for r in 0..<split.count { if case .success(let t) = p.targets(of: split.conditions[r]) { cells.append(r); tg.append(t) } }
        let lat = p.latents(rows: cells, targets: tg, expr: expr)
        let dI = p.vae.cfg.latentInv, dN = p.vae.cfg.latentResp
        var s = provenanceLines().joined(separator: "\n") + "\n"
        s += (["barcode", "condition", "set"] + (1...dI).map { "mu_inv_\($0)" } + (1...dN).map { "z_resp_\($0)" }).joined(separator: "\t") + "\n"
        for (k, r) in cells.enumerated() {
            s += ([split.barcodes[r], split.conditions[r], split.sets[r]] + lat[k].map { String(format: "%.6g", $0) }).joined(separator: "\t") + "\n"
        }
        return s
    }

    /// TSV of the learned graph Λ_νν (edges with |weight| > threshold) and each target's program.
    public static func graphTSV(_ p: PVPredictor, targets: [String], threshold: Float) -> String {
        var s = provenanceLines().joined(separator: "\n") + "\n" + "kind\tcondition\tsource\ttarget\tweight\n"
        for r in p.graph(targetNames: targets, threshold: threshold) { s += r.joined(separator: "\t") + "\n" }
        return s
    }
}
