import Foundation

/// How pv-predict turns a control cell into a perturbed one (DESIGN.md §5).
public enum PredictMode: String, OptionChoice, Sendable {
    /// Decode from the prior of condition u: z_ι = μ_ι(x0), n ~ N(0, β_ν(u)).
    case prior
    /// x0 + f(u; n, z_ι(x0)) − f(0; n, z_ι(x0)) with a common standard-normal draw: removes the shared control offset.
    case delta
    /// The exact additive prediction from the training singles + the ensemble's interaction term, shrunk
    /// (`InteractionPredictor`; its members decode in delta mode).
    case interaction
}

/// How `--predict interaction` weighs the ensemble's interaction term.
public enum ShrinkMode: String, OptionChoice, Sendable {
    /// c + κ(a − c) + λ·Ī, κ and λ fitted on the validation doubles (set val); eb without them.
    case val
    /// Empirical Bayes per gene from the members' disagreement.
    case eb
}

/// Prediction with a trained PerturbedVAE in batches over preallocated buffers.
public final class PVPredictor: Predictor {
    public let vae: PerturbedVAE
    public let targetIndex: [String: Int]
    /// How cells are decoded (`--predict`).
    public var mode: PredictMode = .prior
    /// Noise draws per training control cell for the predicted mean (`--mean-draws`).
    public var meanDraws = 1
    public var genes: Int { vae.cfg.genes }

    public init(vae: PerturbedVAE, targets: [String]) {
        self.vae = vae
        targetIndex = Dictionary(uniqueKeysWithValues: targets.enumerated().map { ($1, $0) })
    }

    /// Target indices of a canonical condition, or the first gene the model does not know.
    public func targets(of condition: String) -> Result<[Int], PVError> {
        var out: [Int] = []
        for g in Condition.genes(condition) {
            guard let i = targetIndex[g] else { return .failure(.usage(g)) }
            out.append(i)
        }
        return .success(out)
    }

    /// Cells of `condition`, one per source control row, clamped at 0 (log-expression is never negative).
    public func cells(condition: String, sources: [Int], expr: UnsafePointer<Float>, rng: inout RNG,
                      out: UnsafeMutablePointer<Float>) throws {
        let t = try knownTargets(condition)
        predict(targets: t, sources: sources, expr: expr, mode: mode, rng: &rng, out: out)
        PredictionWriter.clampCells(out, count: sources.count * genes)
    }

    /// The model's expectation for `condition` over the training control cells: every control cell is decoded
    /// `meanDraws` times (fresh noise each time) and the outputs averaged, then clamped at 0.
    public func mean(condition: String, controls: [Int], expr: UnsafePointer<Float>, controlMean: [Double],
                     rng: inout RNG) throws -> [Double] {
        try rawMean(condition: condition, controls: controls, expr: expr, rng: &rng).map { max(0, $0) }
    }

    /// The expectation of `mean` before the clamp at 0 (ensembles average, and interactions difference, these).
    public func rawMean(condition: String, controls: [Int], expr: UnsafePointer<Float>, rng: inout RNG) throws -> [Double] {
        let t = try knownTargets(condition)
        let G = genes, chunk = vae.maxRows
        var acc = [Double](repeating: 0, count: G)
        var buf = [Float](repeating: 0, count: chunk * G)
        buf.withUnsafeMutableBufferPointer { b in
            for _ in 0..<meanDraws {
                var i = 0
                while i < controls.count {
                    let n = min(chunk, controls.count - i)
                    predict(targets: t, sources: Array(controls[i..<(i + n)]), expr: expr, mode: mode, rng: &rng,
                            out: b.baseAddress!)
                    for k in 0..<n { for j in 0..<G { acc[j] += Double(b[k * G + j]) } }
                    i += n
                }
            }
        }
        let inv = 1 / Double(controls.count * meanDraws)
        return acc.map { $0 * inv }
    }

    func knownTargets(_ condition: String) throws -> [Int] {
        switch targets(of: condition) {
        case .success(let t): return t
        case .failure: throw PVError.usage("condition \(condition) has a gene the model was not trained on")
        }
    }

    /// Predicts one cell per entry of `sources` (rows of `expr`, G columns) under the label `targets`,
    /// writing rows of G into `out`. Noise comes from `rng`.
    public func predict(targets: [Int], sources: [Int], expr: UnsafePointer<Float>, mode: PredictMode,
                        rng: inout RNG, out: UnsafeMutablePointer<Float>) {
        let G = vae.cfg.genes, dN = vae.cfg.latentResp
        let chunk = vae.maxRows
        vae.unets.setLabel(0, targets: [])
        vae.unets.setLabel(1, targets: targets)
        var i = 0
        while i < sources.count {
            let n = min(chunk, sources.count - i)
            for k in 0..<n {
                (vae.x.p + k * G).update(from: expr + sources[i + k] * G, count: G)
                vae.uIdx.p[k] = 1
            }
            rng.fillNormal(vae.epsResp.p, n * dN)
            if mode == .prior {
                vae.predictPrior(rows: n, labels: 2)
                (out + i * G).update(from: vae.xh.p, count: n * G)
            } else {
                // f(u) into out, then f(0) of the same encoded cells with the same noise: out = x0 + f(u) − f(0).
                vae.predictPrior(rows: n, labels: 2)
                let o = out + i * G, x0 = vae.x.p, f0 = vae.xh.p
                o.update(from: vae.xh.p, count: n * G)
                for k in 0..<n { vae.uIdx.p[k] = 0 }
                vae.predictPrior(rows: n, labels: 2, reuseEncoding: true)
                for j in 0..<(n * G) { o[j] = x0[j] + o[j] - f0[j] }
            }
            i += n
        }
    }

    /// Posterior means μ_ι (d_ι values) and z_ν (d_ν values) of `rows` under their own labels.
    public func latents(rows: [Int], targets: [[Int]], expr: UnsafePointer<Float>) -> [[Float]] {
        let G = vae.cfg.genes, dI = vae.cfg.latentInv, dN = vae.cfg.latentResp
        var out: [[Float]] = []
        var i = 0
        while i < rows.count {
            let n = min(vae.maxRows, rows.count - i)
            var slot: [[Int]: Int] = [[]: 0]
            vae.unets.setLabel(0, targets: [])
            for k in 0..<n {
                (vae.x.p + k * G).update(from: expr + rows[i + k] * G, count: G)
                let t = targets[i + k]
                if slot[t] == nil { slot[t] = slot.count; vae.unets.setLabel(slot[t]!, targets: t) }
                vae.uIdx.p[k] = slot[t]!
            }
            vae.posteriorMeans(rows: n, labels: slot.count)
            for k in 0..<n {
                let mu = Array(UnsafeBufferPointer(start: vae.p.p + k * 2 * dI, count: dI))
                let zn = Array(UnsafeBufferPointer(start: vae.z.p + k * (dN + dI), count: dN))
                out.append(mu + zn)
            }
            i += n
        }
        return out
    }

    /// The learned response graph: Λ_νν (packed strict lower triangle, `nL` values; entry (i, j), i > j, is the
    /// weight of edge z_ν,j → z_ν,i) under the control label and under each single target, and each target's
    /// program μ_ν(e_k) − μ_ν(0) (d_ν values). Labels are evaluated in batches of `maxRows`.
    public func learnedGraph(targetCount K: Int) -> LearnedGraph {
        let dN = vae.cfg.latentResp, nL = vae.cfg.nL
        var lambda: [[Float]] = []
        var k0 = 0
        while k0 <= K {
            let n = min(vae.maxRows, K + 1 - k0)
            for s in 0..<n { let k = k0 + s; vae.unets.setLabel(s, targets: k == 0 ? [] : [k - 1]) }
            vae.unets.forward(count: n)
            for s in 0..<n { lambda.append(Array(UnsafeBufferPointer(start: vae.unets.lnn.p + s * nL, count: nL))) }
            k0 += n
        }
        var mu0 = [Float](repeating: 0, count: dN)
        vae.unets.setLabel(0, targets: [])
        vae.unets.forward(count: 1)
        for j in 0..<dN { mu0[j] = vae.unets.mu.p[j] }
        var programs: [[Float]] = []
        var k = 0
        while k < K {
            let n = min(vae.maxRows, K - k)
            for s in 0..<n { vae.unets.setLabel(s, targets: [k + s]) }
            vae.unets.forward(count: n)
            for s in 0..<n { programs.append((0..<dN).map { vae.unets.mu.p[s * dN + $0] - mu0[$0] }) }
            k += n
        }
        return LearnedGraph(nodes: dN, lambda: lambda, programs: programs)
    }

    /// The learned graph as pv-predict --graph's rows: Λ_νν edges (source node → target node, |weight| > threshold)
    /// for the control label and each single target, and each target's program (the z_ν node its μ_ν(e_k) − μ_ν(0)
    /// moves most).
    public func graph(targetNames: [String], threshold: Float) -> [[String]] {
        let g = learnedGraph(targetCount: targetNames.count)
        var rows: [[String]] = []
        for (k, _) in g.lambda.enumerated() {
            let cond = k == 0 ? Condition.control : targetNames[k - 1]
            for e in g.edges(label: k, threshold: threshold) {
                rows.append(["edge", cond, "z_resp_\(e.source + 1)", "z_resp_\(e.target + 1)", String(format: "%.5g", e.weight)])
            }
        }
        for (k, name) in targetNames.enumerated() {
            let (best, bw) = g.programNode(k)
            rows.append(["program", name, name, "z_resp_\(best + 1)", String(format: "%.5g", bw)])
        }
        return rows
    }
}

/// A trained model's response graph in numbers (see `PVPredictor.learnedGraph`): label 0 is control, label k + 1
/// target k.
public struct LearnedGraph {
    public struct Edge { public var source: Int; public var target: Int; public var weight: Float }
    /// Response latents z_ν (the nodes).
    public let nodes: Int
    /// Packed strict lower triangle of Λ_νν per label.
    public let lambda: [[Float]]
    /// μ_ν(e_k) − μ_ν(0) per target.
    public let programs: [[Float]]

    public init(nodes: Int, lambda: [[Float]], programs: [[Float]]) {
        self.nodes = nodes; self.lambda = lambda; self.programs = programs
    }

    /// Edges of label `label` with |weight| > threshold, by target node then source node.
    public func edges(label: Int, threshold: Float) -> [Edge] {
        var out: [Edge] = []
        let L = lambda[label]
        for i in 1..<max(nodes, 1) {
            for j in 0..<i {
                let w = L[TriangularSolve.packed(i, j)]
                if abs(w) > threshold { out.append(Edge(source: j, target: i, weight: w)) }
            }
        }
        return out
    }

    /// The node target `k`'s program moves most, and by how much (signed); node 0 and 0 when nothing moves.
    public func programNode(_ k: Int) -> (node: Int, weight: Float) {
        var best = 0, bw: Float = 0
        for (j, d) in programs[k].enumerated() where abs(d) > abs(bw) { bw = d; best = j }
        return (best, bw)
    }
}
