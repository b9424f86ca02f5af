import Foundation

/// What a PerturbedVAE trains on, derived from split.tsv: the perturbation targets (genes with single-gene
/// training cells), the perturbed training rows with their condition, the control rows, and the validation rows.
public struct TrainingData {
    public let targets: [String]
    /// Distinct conditions of the training rows, then of validation rows not among them; `conditionTargets[c]` are
    /// their target indices.
    public let conditions: [String]
    /// The first `trainConditionCount` entries of `conditions` are the ones trained on.
    public let trainConditionCount: Int
    public let conditionTargets: [[Int]]
    /// Perturbed training rows of expr.npy and their condition index.
    public let trainRows: [Int]
    public let trainCondition: [Int]
    public let controlRows: [Int]
    public let valRows: [Int]
    public let valCondition: [Int]

    public init(split: SplitTable) throws {
        let train = split.rows(set: .train)
        var singles = Set<String>()
        for r in train { let g = Condition.genes(split.conditions[r]); if g.count == 1 { singles.insert(g[0]) } }
        guard !singles.isEmpty else {
            throw PVError.badInput(file: split.name, "no single-gene perturbation in set 'train': nothing to learn targets from")
        }
        targets = singles.sorted()
        let tIndex = Dictionary(uniqueKeysWithValues: targets.enumerated().map { ($1, $0) })
        var cIndex: [String: Int] = [:]
        var conds: [String] = [], ctargets: [[Int]] = []
        var dropped: [String: Int] = [:]
        func index(_ c: String) -> Int? {
            if let i = cIndex[c] { return i }
            let g = Condition.genes(c)
            let idx = g.compactMap { tIndex[$0] }
            guard idx.count == g.count else { return nil }
            cIndex[c] = conds.count; conds.append(c); ctargets.append(idx.sorted())
            return conds.count - 1
        }
        var tr: [Int] = [], tc: [Int] = []
        for r in train where split.conditions[r] != Condition.control {
            if let i = index(split.conditions[r]) { tr.append(r); tc.append(i) } else { dropped[split.conditions[r], default: 0] += 1 }
        }
        if !dropped.isEmpty {
            warn("\(dropped.values.reduce(0, +)) training cells of \(dropped.count) condition(s) with a gene that has no single-gene training cells are not used (e.g. \(dropped.keys.sorted().prefix(3).joined(separator: ", ")))")
        }
        let nTrainConds = conds.count
        // Checkpoint selection must never see a test condition: a val condition that is not trained on but has test
        // cells is left out.
        var testOnly = Set(split.rows(set: .test).map { split.conditions[$0] })
        for r in train { testOnly.remove(split.conditions[r]) }
        var vr: [Int] = [], vc: [Int] = [], leaked = Set<String>()
        for r in split.rows(set: .val) where split.conditions[r] != Condition.control {
            if testOnly.contains(split.conditions[r]) { leaked.insert(split.conditions[r]); continue }
            if let i = index(split.conditions[r]) { vr.append(r); vc.append(i) }
        }
        if !leaked.isEmpty {
            warn("\(leaked.count) val condition(s) with cells in set 'test' and none in 'train' are not used to select the checkpoint (e.g. \(leaked.sorted().prefix(3).joined(separator: ", ")))")
        }
        var ctrl = split.rows(set: .train, condition: Condition.control)
        if ctrl.isEmpty {
            ctrl = split.controlRows
            if !ctrl.isEmpty { warn("no control cells in set 'train'; using the \(ctrl.count) control cells of other sets as partners") }
        }
        guard !ctrl.isEmpty else { throw PVError.badInput(file: split.name, "no control cells (condition 'ctrl'): PerturbedVAE needs them") }
        guard !tr.isEmpty else { throw PVError.badInput(file: split.name, "no perturbed training cells") }
        conditions = conds; conditionTargets = ctargets; trainConditionCount = nTrainConds
        trainRows = tr; trainCondition = tc; controlRows = ctrl; valRows = vr; valCondition = vc
    }
}
