import Foundation

/// The ways pv-split assigns cells to train/val/test.
public enum SplitScheme: String, CaseIterable, Sendable {
    /// PerturbedVAE / discrepancy-VAE: train on control and singles, test on combinations of training singles.
    case singlesToDoubles = "singles-to-doubles"
    /// GEARS `simulation`: held-out genes and combinations, groups unseen_single / combo_seen0/1/2.
    case gearsSimulation = "gears-simulation"
    /// A random fraction of every condition's cells to val and test.
    case randomCells = "random-cells"
    /// A user table `condition<TAB>set`.
    case custom
}

/// Every parameter of a split. Defaults are the published protocols' values.
public struct SplitConfig: Sendable {
    public var scheme = SplitOptions.scheme.defaultValue
    public var seed = UInt64(SplitOptions.seed.defaultValue)
    /// singles-to-doubles: how many of the largest singles lose cells to the test set, and how many cells each.
    public var holdoutSingles = SplitOptions.holdoutSingles.defaultValue
    public var holdoutCells = SplitOptions.holdoutCells.defaultValue
    /// At most this fraction of a single's cells is held out for test (the scale-down on small data).
    public var maxHoldoutFraction = 0.2
    /// singles-to-doubles: validation cells per training single; nil = automatic (5% of the cells left, at least 1
    /// when 10 or more are left).
    public var valCells = SplitOptions.valCells.defaultValue
    /// singles-to-doubles: fraction of the testable combinations moved to set `val` (rounded; drawn with the seed
    /// after every other choice), for choosing prediction weights on doubles that are never scored.
    public var valDoubles = SplitOptions.valDoubles.defaultValue
    /// gears-simulation: fraction of genes kept for training, fraction of seen-2 combinations kept for training,
    /// and the same two fractions for carving the validation set out of the training conditions.
    public var trainGeneFrac = SplitOptions.trainGeneFrac.defaultValue
    public var comboSeen2TrainFrac = SplitOptions.comboSeen2TrainFrac.defaultValue
    public var valGeneFrac = SplitOptions.valGeneFrac.defaultValue
    public var valComboFrac = SplitOptions.valComboFrac.defaultValue
    /// random-cells: fractions of each condition's cells.
    public var valFrac = SplitOptions.valFrac.defaultValue
    public var testFrac = SplitOptions.testFrac.defaultValue
    /// custom: canonical condition to (set, optional group).
    public var custom: [String: (set: String, group: String?)] = [:]
    /// Fraction of control cells moved to test (group control).
    public var controlHoldout = SplitOptions.controlHoldout.defaultValue

    public init() {}
}

/// The result of a split: one set and one group per cell, plus the warnings worth telling the user.
public struct SplitResult {
    public var sets: [String]
    public var groups: [String]
    public var warnings: [String] = []
}

/// Descriptive group of a condition by its number of genes: control, single, double, multi (3 or more).
public func sizeGroup(_ condition: String) -> String {
    switch Condition.genes(condition).count {
    case 0: return "control"
    case 1: return "single"
    case 2: return "double"
    default: return "multi"
    }
}

/// Assigns every cell of `cells` to a set and a group under `config`. Deterministic for `config.seed`.
public func makeSplit(_ cells: LabeledCells, _ config: SplitConfig) throws -> SplitResult {
    var r = SplitResult(sets: Array(repeating: "", count: cells.count), groups: Array(repeating: "", count: cells.count))
    let byCond = cells.cellsByCondition()
    let conds = byCond.keys.sorted()
    var rng = RNG(seed: config.seed)

    func assign(_ idx: [Int], _ set: String, _ group: String) {
        for i in idx { r.sets[i] = set; r.groups[i] = group }
    }
    /// The cells of a condition in a random order.
    func shuffled(_ c: String) -> [Int] {
        var a = byCond[c] ?? []
        rng.shuffle(&a)
        return a
    }

    switch config.scheme {
    case .singlesToDoubles:
        let singles = conds.filter { Condition.genes($0).count == 1 }
        let seenGenes = Set(singles)
        // The largest singles (ties by name) lose cells to the test set.
        let bySize = singles.sorted { (byCond[$0]!.count, $1) > (byCond[$1]!.count, $0) }
        let h = min(config.holdoutSingles, singles.count)
        if h < config.holdoutSingles && config.holdoutSingles > 0 {
            r.warnings.append("only \(singles.count) single-gene conditions: holding out cells of \(h) singles instead of \(config.holdoutSingles)")
        }
        let held = Set(bySize.prefix(h))
        var scaled: [Int] = []
        for s in singles {
            let a = shuffled(s)
            let n = a.count
            var nTest = 0
            if held.contains(s) {
                let cap = Int((Double(n) * config.maxHoldoutFraction).rounded(.down))
                nTest = min(config.holdoutCells, cap)
                if nTest < config.holdoutCells { scaled.append(nTest) }
            }
            let left = n - nTest
            var nVal = config.valCells ?? (left >= 10 ? max(1, Int((Double(left) * 0.05).rounded())) : 0)
            nVal = min(nVal, max(0, left - 1))
            assign(Array(a[0..<nTest]), "test", "single")
            assign(Array(a[nTest..<(nTest + nVal)]), "val", "single")
            assign(Array(a[(nTest + nVal)...]), "train", "single")
        }
        if !scaled.isEmpty {
            let range = scaled.min()! == scaled.max()! ? "\(scaled.min()!)" : "\(scaled.min()!)–\(scaled.max()!)"
            r.warnings.append("small data: held out \(range) instead of \(config.holdoutCells) cells in \(scaled.count) of \(h) held-out singles (at most \(Int(config.maxHoldoutFraction * 100))% of a condition's cells)")
        }
        var combos: [String] = []
        for c in conds where Condition.genes(c).count >= 2 {
            if Condition.genes(c).allSatisfy(seenGenes.contains) { combos.append(c) }
            else { assign(byCond[c]!, "", "unseen") }
        }
        // Validation combinations are drawn last, so that --val-doubles leaves every other assignment unchanged.
        let nValCombos = Int((Double(combos.count) * config.valDoubles).rounded())
        var order = combos
        if nValCombos > 0 { rng.shuffle(&order) }
        let valCombos = Set(order.prefix(nValCombos))
        for c in combos { assign(byCond[c]!, valCombos.contains(c) ? "val" : "test", sizeGroup(c)) }
        if config.valDoubles > 0 && nValCombos == combos.count && !combos.isEmpty {
            r.warnings.append("--val-doubles \(config.valDoubles) moves all \(combos.count) combinations to val: none is left to test")
        }
        if singles.isEmpty { r.warnings.append("no single-gene conditions: nothing to train on but control, no combination can be tested") }

    case .gearsSimulation:
        let perts = conds.filter { $0 != Condition.control }
        let (train, test) = gearsSplit(perts, geneFrac: config.trainGeneFrac, comboFrac: config.comboSeen2TrainFrac, rng: &rng)
        let (train2, val) = gearsSplit(train, geneFrac: config.valGeneFrac, comboFrac: config.valComboFrac, rng: &rng)
        for c in train2 { assign(byCond[c]!, "train", sizeGroup(c)) }
        for (c, g) in val { assign(byCond[c]!, "val", g) }
        for (c, g) in test { assign(byCond[c]!, "test", g) }

    case .randomCells:
        for c in conds where c != Condition.control {
            let a = shuffled(c)
            let n = a.count
            let nTest = min(n, Int((Double(n) * config.testFrac).rounded()))
            let nVal = min(n - nTest, Int((Double(n) * config.valFrac).rounded()))
            let g = sizeGroup(c)
            assign(Array(a[0..<nTest]), "test", g)
            assign(Array(a[nTest..<(nTest + nVal)]), "val", g)
            assign(Array(a[(nTest + nVal)...]), "train", g)
        }

    case .custom:
        var unlisted = 0
        for c in conds where c != Condition.control || config.custom[c] != nil {
            if let e = config.custom[c] { assign(byCond[c]!, e.set, e.group ?? sizeGroup(c)) }
            else { assign(byCond[c]!, "", sizeGroup(c)); unlisted += 1 }
        }
        if unlisted > 0 { r.warnings.append("\(unlisted) condition\(unlisted == 1 ? "" : "s") not in the custom table: left unused (empty set)") }
    }

    // Control cells: train, unless the scheme (custom) placed them; --control-holdout moves a fraction to test.
    if let ctrl = byCond[Condition.control] {
        if config.scheme != .custom || config.custom[Condition.control] == nil { assign(ctrl, "train", "control") }
        if config.controlHoldout > 0 {
            var a = ctrl.filter { r.sets[$0] == "train" }
            rng.shuffle(&a)
            let k = min(a.count, Int((Double(a.count) * config.controlHoldout).rounded()))
            assign(Array(a.prefix(k)), "test", "control")
        }
    } else {
        r.warnings.append("no control cells (label '\(Condition.control)' after --control mapping)")
    }
    if !r.sets.contains("train") { r.warnings.append("the split has no training cells") }
    if !r.sets.contains("test") { r.warnings.append("the split has no test cells") }
    return r
}

/// GEARS' `get_simulation_split` on canonical perturbation names: a random `geneFrac` of the genes are training genes;
/// singles of the others are `unseen_single`; combinations with k < all genes seen are `combo_seen<k>`; of the
/// combinations with every gene seen, a random `comboFrac` trains and the rest are `combo_seen<n>` (combo_seen2 for
/// doubles). Returns the training conditions and the held-out ones with their groups.
func gearsSplit(_ perts: [String], geneFrac: Double, comboFrac: Double, rng: inout RNG) -> ([String], [(String, String)]) {
    let perts = perts.sorted()
    let genes = Array(Set(perts.flatMap { Condition.genes($0) })).sorted()
    let nTrainGenes = Int(Double(genes.count) * geneFrac)
    let trainGenes = Set(rng.sample(genes.count, nTrainGenes).map { genes[$0] })
    var train: [String] = [], held: [(String, String)] = [], pool: [String] = []
    for p in perts {
        let g = Condition.genes(p)
        let k = g.filter(trainGenes.contains).count
        if g.count == 1 {
            if k == 1 { train.append(p) } else { held.append((p, "unseen_single")) }
        } else if k == g.count {
            pool.append(p)
        } else {
            held.append((p, "combo_seen\(k)"))
        }
    }
    let nTrain = Int(Double(pool.count) * comboFrac)
    let keep = Set(rng.sample(pool.count, nTrain))
    for (i, p) in pool.enumerated() {
        if keep.contains(i) { train.append(p) } else { held.append((p, "combo_seen\(Condition.genes(p).count)")) }
    }
    return (train.sorted(), held)
}
