import Foundation

/// How `--predict interaction` weighs the ensemble's interaction term (`--shrink`).
public enum InteractionWeights {
    /// Empirical-Bayes shrinkage per gene (`InteractionShrinkage.empiricalBayes`).
    case eb
    /// c + κ(a − c) + λ·Ī, κ and λ fitted on the validation doubles (`InteractionShrinkage.fitDampedInteraction`).
    case fitted(kappa: Double, lambda: Double)
}

/// `pv-predict --predict interaction`: the exact additive prediction from the training singles' means plus the
/// ensemble members' interaction term f(A+B) − f(A) − f(B) + f(0) (each member's expectation in delta mode over
/// every training control cell, with common random numbers), weighted by `weights`. A condition with training cells
/// of its own is predicted by its training mean; one with a gene that has no training single falls back to the
/// ensemble's own prediction (`fallbacks` names them). Means and cells are built as for a mean-shift baseline:
/// max(0, c + change) and max(0, x0 + change).
public final class InteractionPredictor: Predictor {
    let members: [PVPredictor]
    let additive: BaselinePredictor
    let trained: Set<String>
    let controls: [Int]
    let controlMean: [Double]
    let expr: UnsafePointer<Float>
    let seed: UInt64
    public var weights: InteractionWeights = .eb
    /// Conditions predicted by the ensemble itself because a gene has no training single.
    public private(set) var fallbacks: [String] = []
    var memberCache: [String: [[Double]]] = [:]
    var changeCache: [String: [Double]] = [:]
    public var genes: Int { controlMean.count }

    /// `members` (set to delta mode here), the in-memory additive baseline of the same split, the training control
    /// rows and their mean, the expression matrix and pv-predict's --seed.
    public init(members: [PVPredictor], additive: ModelFile, controls: [Int], controlMean: [Double],
                expr: UnsafePointer<Float>, seed: UInt64) {
        precondition(!members.isEmpty)
        for p in members { p.mode = .delta }
        self.members = members
        self.additive = BaselinePredictor(model: additive, file: "additive baseline")
        trained = Set(additive.meta["conditions"] as? [String] ?? [])
        self.controls = controls; self.controlMean = controlMean; self.expr = expr; self.seed = seed
    }

    /// The generator every member's expectation of `condition` starts from (a function of --seed and the name).
    public static func rng(_ condition: String, seed: UInt64) -> RNG {
        RNG(seed: seed ^ 0x696e_7465_7221, stream: PredictionPlan.stream(of: condition))
    }

    /// Each member's unclamped expectation of `condition` (cached; the same generator state for every member).
    func memberMeans(_ condition: String) throws -> [[Double]] {
        if let m = memberCache[condition] { return m }
        let start = Self.rng(condition, seed: seed)
        var out: [[Double]] = []
        for p in members {
            var r = start
            out.append(try p.rawMean(condition: condition, controls: controls, expr: expr, rng: &r))
        }
        memberCache[condition] = out
        return out
    }

    /// Whether `condition` is a combination of training singles without training cells of its own.
    public func isComposable(_ condition: String) -> Bool {
        let g = Condition.genes(condition)
        return g.count >= 2 && !trained.contains(condition) && g.allSatisfy(trained.contains)
    }

    /// The exact additive change of a composable condition from the control mean.
    public func additiveChange(_ condition: String) throws -> [Double] {
        try additive.delta(condition).map(Double.init)
    }

    /// Each member's interaction term of a composable condition: m(A+B) − m(A) − m(B) + m(0), where in delta mode a
    /// member's expectation of the control condition is the control mean itself.
    public func memberInteractions(_ condition: String) throws -> [[Double]] {
        let gs = Condition.genes(condition)
        var out = try memberMeans(condition)
        for g in gs {
            let s = try memberMeans(g)
            for m in out.indices { for j in 0..<genes { out[m][j] -= s[m][j] } }
        }
        let k = Double(gs.count - 1)
        for m in out.indices { for j in 0..<genes { out[m][j] += k * controlMean[j] } }
        return out
    }

    /// The predicted change of `condition` from the control mean (before the clamp).
    public func change(_ condition: String) throws -> [Double] {
        if let c = changeCache[condition] { return c }
        var c: [Double]
        if trained.contains(condition) {
            c = try additiveChange(condition)
        } else if isComposable(condition) {
            let a = try additiveChange(condition)
            let eb = InteractionShrinkage.empiricalBayes(try memberInteractions(condition))
            switch weights {
            case .eb: c = (0..<genes).map { a[$0] + eb.shrunk[$0] }
            case .fitted(let kappa, let lambda): c = (0..<genes).map { kappa * a[$0] + lambda * eb.mean[$0] }
            }
        } else {
            let ms = try memberMeans(condition)
            c = (0..<genes).map { j in ms.reduce(0) { $0 + $1[j] } / Double(ms.count) - controlMean[j] }
            fallbacks.append(condition)
        }
        changeCache[condition] = c
        return c
    }

    public func cells(condition: String, sources: [Int], expr: UnsafePointer<Float>, rng: inout RNG,
                      out: UnsafeMutablePointer<Float>) throws {
        shiftedControlCells(change: try change(condition), sources: sources, expr: expr, genes: genes, out: out)
    }

    public func mean(condition: String, controls: [Int], expr: UnsafePointer<Float>, controlMean: [Double],
                     rng: inout RNG) throws -> [Double] {
        let d = try change(condition)
        return (0..<genes).map { max(0, self.controlMean[$0] + d[$0]) }
    }

    /// Fits κ and λ on the validation doubles of `split` (set val, composable, with cells): their true mean change
    /// against the additive change and the members' mean interaction. Nil when there are none.
    public func fitOnValidation(split: SplitTable, cols: Int) throws -> (kappa: Double, lambda: Double, doubles: [String])? {
        var rowsBy: [String: [Int]] = [:]
        for r in split.rows(set: "val") where isComposable(split.conditions[r]) { rowsBy[split.conditions[r], default: []].append(r) }
        let doubles = rowsBy.keys.sorted()
        guard !doubles.isEmpty else { return nil }
        var A: [[Double]] = [], I: [[Double]] = [], Y: [[Double]] = []
        for d in doubles {
            A.append(try additiveChange(d))
            I.append(InteractionShrinkage.empiricalBayes(try memberInteractions(d)).mean)
            let rows = rowsBy[d]!
            var y = [Double](repeating: 0, count: cols)
            for r in rows { let x = expr + r * cols; for j in 0..<cols { y[j] += Double(x[j]) } }
            Y.append((0..<cols).map { y[$0] / Double(rows.count) - controlMean[$0] })
        }
        let w = InteractionShrinkage.fitDampedInteraction(additive: A, interaction: I, truth: Y)
        return (w.kappa, w.lambda, doubles)
    }
}
