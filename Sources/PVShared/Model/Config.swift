import Foundation

/// Sizes and variants of a PerturbedVAE (DESIGN.md §5; bench/reference/pvae.py, the PyTorch reference, has the
/// same names and shapes).
public struct PVConfig: Equatable {
    public var genes: Int
    public var targets: Int
    public var hidden = TrainOptions.hidden.defaultValue
    public var latentInv = TrainOptions.latentInv.defaultValue
    public var latentResp = TrainOptions.latentResp.defaultValue
    /// How the u-networks read u (see `UCompose`).
    public var uCompose = TrainOptions.uCompose.defaultValue
    /// The decoder's architecture (see `DecoderKind`).
    public var decoder = TrainOptions.decoder.defaultValue
    /// Hidden width of each per-node network of the additive decoder.
    public var nodeHidden = TrainOptions.nodeHidden.defaultValue

    public init(genes: Int, targets: Int) { self.genes = genes; self.targets = targets }

    public var nL: Int { latentResp * (latentResp - 1) / 2 }
    public var latent: Int { latentResp + latentInv }

    /// Every tensor (name, shape, fan-in) in storage order.
    public var tensors: [(String, [Int], Int)] {
        let G = genes, K = targets, H = hidden, dI = latentInv, dN = latentResp
        var t: [(String, [Int], Int)] = []
        t += Linear.tensors("enc1", G, H) + Linear.tensors("enc2", H, H)
        t += Linear.tensors("inv", H, 2 * dI)
        t += Linear.tensors("resp1", H + K, H) + Linear.tensors("resp2", H, 2 * dN)
        let uIn = uCompose == .mlp ? H : K
        if uCompose == .mlp { t += Linear.tensors("utrunk", K, H) }
        t += Linear.tensors("ulnn", uIn, nL) + Linear.tensors("ulni", uIn, dN * dI)
        t += Linear.tensors("umu", uIn, dN) + Linear.tensors("ulogbeta", uIn, dN)
        switch decoder {
        case .mlp:
            t += Linear.tensors("dec1", dN + dI, H) + Linear.tensors("dec2", H, H) + Linear.tensors("dec3", H, G)
        case .additive:
            t += Linear.tensors("decI1", dI, H) + Linear.tensors("decI2", H, H) + Linear.tensors("decI3", H, G)
            t += [("decN1.W", [dN, nodeHidden], 1), ("decN1.b", [dN, nodeHidden], 1),
                  ("decN2.W", [dN * nodeHidden, G], nodeHidden)]
        }
        return t
    }
}
