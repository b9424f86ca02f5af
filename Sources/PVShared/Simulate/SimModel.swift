import Foundation

/// Parameters of a simulated screen (pv-simulate's options).
public struct SimParams: Sendable {
    public var cellsPerCondition = SimOptions.cellsPerCondition.defaultValue
    /// When set, this many cells in total, spread evenly over the conditions (the first ones get one more).
    public var totalCells = SimOptions.cells.defaultValue
    public var genes = SimOptions.genes.defaultValue
    public var targets = SimOptions.targets.defaultValue
    public var doubles = SimOptions.doubles.defaultValue
    public var latentInv = SimOptions.latentInv.defaultValue
    public var latentResp = SimOptions.latentResp.defaultValue
    public var edgeDensity = SimOptions.edgeDensity.defaultValue
    /// Intervention strength: shift of the noise mean of each targeted node (noise sds are 0.5–1), times U(0.8, 1.2).
    public var effect = SimOptions.effect.defaultValue
    public var hidden = 64
    /// Median UMIs per cell; nil: one per gene.
    public var librarySize = SimOptions.librarySize.defaultValue
    public var librarySD = SimOptions.librarySD.defaultValue
    public var seed = UInt64(SimOptions.seed.defaultValue)
    /// The median library size in effect.
    public var medianLibrary: Double { librarySize ?? Double(genes) }
    public init() {}
}

/// The generating parameters of a simulated screen: the latent causal model, the interventions, the decoder and
/// the count model. Everything is drawn from `RNG` streams of the seed, so a seed fixes the screen.
public struct SimModel {
    public let p: SimParams
    public var dN: Int { p.latentResp }
    public var dI: Int { p.latentInv }
    public var dZ: Int { p.latentResp + p.latentInv }
    /// Λ_νν [dN, dN] strictly lower triangular (edge i <- j for j < i), row-major.
    public var lambdaNN: [Float]
    /// Λ_νι [dN, dI], row-major.
    public var lambdaNI: [Float]
    /// Noise standard deviation of each response node (β_ν = sd²).
    public var noiseSD: [Float]
    /// Mean shift of each target on each node [K, dN].
    public var intervention: [Float]
    /// 1 where a target removes the incoming edges of a node [K, dN].
    public var cutEdges: [Float]
    /// Decoder: h = tanh(z·W1 + b1) with z = [z_ν, z_ι]; log-rate = base + h·W2.
    public var w1: [Float], b1: [Float], w2: [Float], geneBase: [Float]
    /// Negative-binomial inverse dispersion per gene.
    public var theta: [Float]
    /// Target names (T01, ...), panel gene symbols (G0001, ...), canonical conditions (ctrl, singles, doubles).
    public var targetNames: [String], geneNames: [String], conditions: [String]
    /// Target indices of each condition.
    public var conditionTargets: [[Int]]

    public init(_ p: SimParams) {
        self.p = p
        let dN = p.latentResp, dI = p.latentInv, dZ = dN + dI, K = p.targets, G = p.genes, H = p.hidden
        func uni(_ r: inout RNG, _ a: Double, _ b: Double) -> Float { Float(a + (b - a) * r.uniform()) }

        var g = RNG(seed: p.seed, stream: 1)
        lambdaNN = Array(repeating: 0, count: dN * dN)
        for i in 0..<dN { for j in 0..<i where g.uniform() < p.edgeDensity {
            lambdaNN[i * dN + j] = (g.uniform() < 0.5 ? -1 : 1) * uni(&g, 0.4, 0.9)
        } }
        lambdaNI = (0..<(dN * dI)).map { _ in 0.3 * g.normal() }
        noiseSD = (0..<dN).map { _ in uni(&g, 0.5, 1.0) }

        var t = RNG(seed: p.seed, stream: 2)
        intervention = Array(repeating: 0, count: K * dN)
        cutEdges = Array(repeating: 0, count: K * dN)
        for k in 0..<K {
            let m = t.uniform() < 0.7 ? 1 : 2
            let cut = t.uniform() < 0.5
            for j in t.sample(dN, min(m, dN)) {
                let sign: Float = t.uniform() < 0.5 ? -1 : 1
                intervention[k * dN + j] = sign * Float(p.effect) * uni(&t, 0.8, 1.2)
                if cut { cutEdges[k * dN + j] = 1 }
            }
        }

        var d = RNG(seed: p.seed, stream: 3)
        let gain = 1.5 / Float(dZ).squareRoot()
        w1 = (0..<(dZ * H)).map { _ in gain * d.normal() }
        b1 = (0..<H).map { _ in 0.5 * d.normal() }
        // Sparse gene loadings: each gene listens to ~20% of the hidden units.
        let scale = 1.2 / Float(0.2 * Double(H)).squareRoot()
        w2 = (0..<(H * G)).map { _ in d.uniform() < 0.2 ? scale * d.normal() : 0 }
        geneBase = (0..<G).map { _ in 1.2 * d.normal() }
        theta = (0..<G).map { _ in Float(Foundation.exp(Foundation.log(3.0) + 0.5 * Double(d.normal()))) }

        let tw = max(2, String(K).count), gw = max(4, String(G).count)
        func pad(_ i: Int, _ w: Int) -> String { let s = String(i); return String(repeating: "0", count: max(0, w - s.count)) + s }
        let tnames = (1...max(K, 1)).prefix(K).map { "T" + pad($0, tw) }
        targetNames = tnames
        geneNames = (1...max(G, 1)).prefix(G).map { "G" + pad($0, gw) }

        var c = RNG(seed: p.seed, stream: 4)
        var pairs: [(Int, Int)] = []
        for a in 0..<K { for b in (a + 1)..<max(K, a + 1) { pairs.append((a, b)) } }
        let chosen = c.sample(pairs.count, min(p.doubles, pairs.count)).map { pairs[$0] }
        var conds: [(String, [Int])] = [(Condition.control, [])]
        for k in 0..<K { conds.append((tnames[k], [k])) }
        let dbl = chosen.map { (Condition.name([tnames[$0.0], tnames[$0.1]]), [$0.0, $0.1]) }.sorted { $0.0 < $1.0 }
        conds += dbl
        conditions = conds.map(\.0)
        conditionTargets = conds.map(\.1)
    }

    /// The SCM of one condition: Λ_νν(u), Λ_νι(u) (rows of cut nodes zeroed) and μ_ν(u) (sum of the targets' shifts).
    public func mechanism(_ targets: [Int]) -> (lnn: [Float], lni: [Float], mu: [Float]) {
        var lnn = lambdaNN, lni = lambdaNI, mu = [Float](repeating: 0, count: dN)
        for k in targets {
            for j in 0..<dN {
                mu[j] += intervention[k * dN + j]
                if cutEdges[k * dN + j] != 0 {
                    for i in 0..<dN { lnn[j * dN + i] = 0 }
                    for i in 0..<dI { lni[j * dI + i] = 0 }
                }
            }
        }
        return (lnn, lni, mu)
    }

    /// E[z_ν | u] = (I − Λ_νν(u))⁻¹ μ_ν(u) (z_ι has mean zero), by forward substitution.
    public func latentMean(_ targets: [Int]) -> [Float] {
        let m = mechanism(targets)
        var z = [Float](repeating: 0, count: dN)
        for i in 0..<dN {
            var s = m.mu[i]
            for j in 0..<i { s += m.lnn[i * dN + j] * z[j] }
            z[i] = s
        }
        return z
    }

    /// Cells per condition, in condition order.
    public func cellCounts() -> [Int] {
        let C = conditions.count
        guard let total = p.totalCells else { return Array(repeating: p.cellsPerCondition, count: C) }
        return (0..<C).map { total / C + ($0 < total % C ? 1 : 0) }
    }
}
