import Foundation

/// Sizes and variants of a PerturbedVAE (DESIGN.md §5, MODEL_SPEC.md).
public struct PVConfig: Equatable {
    public var genes: Int
    public var targets: Int
    public var hidden: Int = 256
    public var latentInv: Int = 85
    public var latentResp: Int = 20
    /// `mlp` (a shared trunk K → H, then heads) or `additive` (each u-head a bias plus a linear map of u).
    public var uCompose: String = "mlp"
    /// `mlp` (f_dec on [z_ν, z_ι]) or `additive` (f_ι(z_ι) + Σ_j f_j(z_ν,j)).
    public var decoder: String = "mlp"
    /// Hidden width of each per-node network of the additive decoder.
    public var nodeHidden: Int = 16

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
        let uIn = uCompose == "mlp" ? H : K
        if uCompose == "mlp" { t += Linear.tensors("utrunk", K, H) }
        t += Linear.tensors("ulnn", uIn, nL) + Linear.tensors("ulni", uIn, dN * dI)
        t += Linear.tensors("umu", uIn, dN) + Linear.tensors("ulogbeta", uIn, dN)
        if decoder == "mlp" {
            t += Linear.tensors("dec1", dN + dI, H) + Linear.tensors("dec2", H, H) + Linear.tensors("dec3", H, G)
        } else {
            t += Linear.tensors("decI1", dI, H) + Linear.tensors("decI2", H, H) + Linear.tensors("decI3", H, G)
            t += [("decN1.W", [dN, nodeHidden], 1), ("decN1.b", [dN, nodeHidden], 1),
                  ("decN2.W", [dN * nodeHidden, G], nodeHidden)]
        }
        return t
    }
}
