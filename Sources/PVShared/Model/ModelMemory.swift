import Foundation

/// The memory a PerturbedVAE of a configuration allocates, computed with overflow checks before anything is
/// allocated (`MemoryBudget`): `--hidden 10000000` aborted in an allocation, `--hidden 9223372036854775807`
/// overflowed the byte count.
extension PVConfig {
    /// Number of parameters (every tensor of `tensors`), or overflow.
    public var parameterCount: CheckedSize {
        let G = CheckedSize(genes), K = CheckedSize(targets), H = CheckedSize(hidden)
        let dI = CheckedSize(latentInv), dN = CheckedSize(latentResp), S = CheckedSize(nodeHidden)
        func lin(_ i: CheckedSize, _ o: CheckedSize) -> CheckedSize { i * o + o }
        let nL = dN * (latentResp >= 1 ? dN - 1 : 0) / 2
        let mlpU = "\(uCompose)" == "mlp", mlpDecoder = "\(decoder)" == "mlp"
        let uIn = mlpU ? H : K
        var p = lin(G, H) + lin(H, H) + lin(H, 2 * dI) + lin(H + K, H) + lin(H, 2 * dN)
        if mlpU { p = p + lin(K, H) }
        p = p + lin(uIn, nL) + lin(uIn, dN * dI) + lin(uIn, dN) + lin(uIn, dN)
        p = p + (mlpDecoder ? lin(dN + dI, H) : lin(dI, H)) + lin(H, H) + lin(H, G)
        if !mlpDecoder { p = p + 2 * dN * S + dN * S * G }
        return p
    }

    /// Bytes of a PerturbedVAE over `rows` rows (`PerturbedVAE(config:maxRows:)`): `parameterCopies` float arrays
    /// of every parameter (parameters and gradients: 2; a trainer adds Adam's two moments and the best weights),
    /// the activations of every row and the per-label u-network outputs. A lower bound of what is allocated.
    public func memoryNeeded(rows: Int, parameterCopies: Int) -> CheckedSize {
        let G = CheckedSize(genes), K = CheckedSize(targets), H = CheckedSize(hidden)
        let dI = CheckedSize(latentInv), dN = CheckedSize(latentResp), S = CheckedSize(nodeHidden)
        let R = CheckedSize(rows)
        let nL = dN * (latentResp >= 1 ? dN - 1 : 0) / 2
        var perRow = 3 * G + 2 * (H + K) + 12 * H + 8 * dI + 12 * dN
        if "\(decoder)" != "mlp" { perRow = perRow + 2 * dN * S }
        let perLabel = K + 2 * H + 2 * nL + 2 * dN * dI + 4 * dN
        return 4 * (CheckedSize(max(parameterCopies, 1)) * parameterCount + R * perRow + (R + 1) * perLabel)
    }

    /// Refuses (exit 64) sizes whose model would not fit in memory, naming the option to blame: --hidden,
    /// --latent-inv, --latent-resp, --node-hidden or `rowsOption` (the option that sets `rows`, with its value and
    /// default). `rowsPerUnit` rows are allocated per unit of that option (pv-train: 2 per --batch).
    public func requireMemory(rowsOption: (flag: String, value: Int, default: Int), rowsPerUnit: Int = 1,
                              parameterCopies: Int) throws {
        let d = PVConfig(genes: genes, targets: targets)
        try MemoryBudget.require([("--hidden", hidden, d.hidden), ("--latent-inv", latentInv, d.latentInv),
                                  ("--latent-resp", latentResp, d.latentResp), ("--node-hidden", nodeHidden, d.nodeHidden),
                                  rowsOption]) { v in
            var c = self
            c.hidden = v[0]; c.latentInv = v[1]; c.latentResp = v[2]; c.nodeHidden = v[3]
            let rows = CheckedSize(v[4]) * CheckedSize(rowsPerUnit)
            guard let r = rows.value else { return .overflow }
            return c.memoryNeeded(rows: r, parameterCopies: parameterCopies)
        }
    }
}
