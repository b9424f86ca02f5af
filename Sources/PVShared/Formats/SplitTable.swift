import Foundation

/// The sets of split.tsv that hold cells (the empty set, unused cells, is no choice on a command line).
public enum SplitSet: String, OptionChoice, Sendable {
    case test, val, train
}

/// The assignment of cells to train/val/test written by pv-split (`split.tsv`), one row per cell of `expr.npy`.
public struct SplitTable {
    public var barcodes: [String]
    public var labels: [String]
    public var conditions: [String]
    public var sets: [String]
    public var groups: [String]
    public var name: String

    public var count: Int { barcodes.count }

    public init(barcodes: [String], labels: [String], conditions: [String], sets: [String], groups: [String], name: String = "split") {
        self.barcodes = barcodes; self.labels = labels; self.conditions = conditions
        self.sets = sets; self.groups = groups; self.name = name
    }

    /// Reads `split.tsv` (columns barcode, label, condition, set, group; extra columns ignored).
    public init(path: String) throws {
        let t = try TSVTable(path: path)
        name = t.name
        barcodes = try t.values("barcode")
        labels = try t.values("label")
        conditions = try t.values("condition")
        sets = try t.values("set")
        groups = try t.values("group")
        if barcodes.isEmpty { throw PVError.badInput(file: name, "no cells in split table") }
        for (i, r) in t.rows.enumerated() {
            if let f = r.first(where: { $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }) {
                throw PVError.badInput(file: name, line: t.lineNumbers[i], "field '\(f)' contains a control character")
            }
        }
        for (i, s) in sets.enumerated() where !["train", "val", "test", ""].contains(s) {
            throw PVError.badInput(file: name, line: t.lineNumbers[i], "set must be train, val, test or empty, got '\(s)'")
        }
        // `A+ctrl` sorts to itself but is not canonical: a control name never appears inside a combination.
        for (i, c) in conditions.enumerated() where c != Condition.name(Condition.genes(c)) || c.isEmpty
            || (c != Condition.control && Condition.genes(c).contains(Condition.control)) {
            throw PVError.badInput(file: name, line: t.lineNumbers[i], "condition '\(c)' is not canonical (genes sorted, joined by '+', or 'ctrl')")
        }
    }

    public func write(_ path: String) throws {
        var t = TSVTable(header: ["barcode", "label", "condition", "set", "group"])
        t.rows = (0..<count).map { [barcodes[$0], labels[$0], conditions[$0], sets[$0], groups[$0]] }
        try t.write(path)
    }

    /// Row indices of cells in `set` (and, when given, of `condition`).
    public func rows(set: SplitSet, condition: String? = nil) -> [Int] {
        rows(set: set.rawValue, condition: condition)
    }

    /// The same by the set's name (the empty name: unused cells).
    public func rows(set: String, condition: String? = nil) -> [Int] {
        (0..<count).filter { sets[$0] == set && (condition == nil || conditions[$0] == condition!) }
    }

    /// Row indices of control cells, in any set.
    public var controlRows: [Int] { (0..<count).filter { conditions[$0] == Condition.control } }

    /// Checks that the table has one row per expression row.
    public func check(rows n: Int, exprName: String) throws {
        guard n == count else {
            throw PVError.badInput(file: name, "has \(count) cells but \(exprName) has \(n) rows; both must come from the same pv-normalize run")
        }
    }
}
