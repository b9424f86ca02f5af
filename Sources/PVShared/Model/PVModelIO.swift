import Foundation

/// Conversion between a PerturbedVAE in memory and pv's model file (DESIGN.md §3): one `.npy` member per tensor
/// (names as bench/reference/pvae.py), the configuration under `meta.json` → `hyper`.
public enum PVModelIO {
    /// The hyperparameters that fix the network's shape, as stored in meta.json.
    public static func hyper(_ c: PVConfig) -> [String: Any] {
        ["latent_inv": c.latentInv, "latent_resp": c.latentResp, "hidden": c.hidden, "u_compose": c.uCompose.rawValue,
         "decoder": c.decoder.rawValue, "node_hidden": c.nodeHidden]
    }

    /// Rebuilds the configuration of a pvae model file, checking its meta.
    public static func config(of m: ModelFile, file: String) throws -> PVConfig {
        guard m.kind == "pvae" else { throw PVError.badInput(file: file, "model kind is '\(m.kind)', expected 'pvae'") }
        guard let h = m.meta["hyper"] as? [String: Any] else { throw PVError.badInput(file: file, "meta.json lacks 'hyper'") }
        func int(_ k: String) throws -> Int {
            guard let v = h[k] as? Int ?? (h[k] as? NSNumber)?.intValue, v > 0 else {
                throw PVError.badInput(file: file, "meta.json hyper.\(k) is missing or not a positive integer")
            }
            return v
        }
        guard !m.genes.isEmpty, !m.targets.isEmpty else { throw PVError.badInput(file: file, "model has no gene or target list") }
        var c = PVConfig(genes: m.genes.count, targets: m.targets.count)
        c.latentInv = try int("latent_inv"); c.latentResp = try int("latent_resp"); c.hidden = try int("hidden")
        let u = h["u_compose"] as? String ?? "mlp", d = h["decoder"] as? String ?? "mlp"
        guard let uc = UCompose(rawValue: u), let dk = DecoderKind(rawValue: d) else {
            throw PVError.badInput(file: file, "meta.json: unknown u_compose '\(u)' or decoder '\(d)'")
        }
        c.uCompose = uc; c.decoder = dk
        c.nodeHidden = (h["node_hidden"] as? Int) ?? 16
        return c
    }

    /// Copies every tensor of `m` into the store (shapes checked).
    public static func loadWeights(_ m: ModelFile, into store: ParamStore, file: String) throws {
        for s in store.specs {
            let v = try m.tensor(s.name, shape: s.shape, file: file)
            for (i, f) in v.enumerated() where !f.isFinite {
                throw PVError.badInput(file: file, "tensor '\(s.name)' has a non-finite value at index \(i)")
            }
            v.withUnsafeBufferPointer { (store.params.p + s.offset).update(from: $0.baseAddress!, count: s.count) }
        }
    }

    /// Every tensor of a flat parameter array as model-file members.
    public static func setTensors(_ m: inout ModelFile, store: ParamStore, values: UnsafePointer<Float>) {
        for s in store.specs { m.set(s.name, Array(UnsafeBufferPointer(start: values + s.offset, count: s.count)), shape: s.shape) }
    }
}
