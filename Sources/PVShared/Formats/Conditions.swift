import Foundation

/// How perturbation labels are written: the control label and the separator between genes of a combination.
public struct LabelSyntax: Sendable {
    public var control: String
    public var separator: String
    public init(control: String = "ctrl", separator: String = "+") { self.control = control; self.separator = separator }

    /// The canonical name used everywhere inside pv: `ctrl` for control, gene names sorted and joined by `+`.
    /// `B+A` and `A+B` are one condition; a control label inside a combination (`ctrl+A`, as GEARS writes singles) is dropped.
    public func canonical(_ label: String) -> String {
        Condition.name(genes(label))
    }

    /// Why `label` is malformed, or nil: a control character (NUL, newline, ...), an empty label (unless the
    /// control label is empty), or an empty gene name around a separator (`+`, `T01+`, `+T02`, `T01++T02`), which
    /// `genes` would otherwise drop silently (and `+` alone would become a control).
    public func problem(_ label: String) -> String? {
        if let c = label.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            return "label '\(label)' contains the control character U+\(String(format: "%04X", c.value))"
        }
        let t = label.trimmingCharacters(in: .whitespaces)
        if t == control { return nil }
        if t.isEmpty { return "empty label (the control label is '\(control)')" }
        if !separator.isEmpty && t.components(separatedBy: separator).contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            return "label '\(label)' has an empty gene name (nothing \(t == separator ? "around" : t.hasPrefix(separator) ? "before" : t.hasSuffix(separator) ? "after" : "between") separator '\(separator)')"
        }
        return nil
    }

    /// The canonical name of a well-formed label; a malformed one throws `fail(problem)`.
    public func strictCanonical(_ label: String, fail: (String) -> PVError) throws -> String {
        if let p = problem(label) { throw fail(p) }
        return canonical(label)
    }

    /// Whether a label names one gene twice (`A+A`): read as the single gene, worth a warning.
    public func repeatsGene(_ label: String) -> Bool {
        let t = label.trimmingCharacters(in: .whitespaces)
        guard !separator.isEmpty, t != control else { return false }
        let gs = t.components(separatedBy: separator).map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0 != control }
        return Set(gs).count < gs.count
    }

    /// The distinct target genes of a label, sorted; empty for control.
    public func genes(_ label: String) -> [String] {
        let t = label.trimmingCharacters(in: .whitespaces)
        if t == control { return [] }
        var gs = separator.isEmpty ? [t] : t.components(separatedBy: separator)
        gs = gs.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != control }
        return Array(Set(gs)).sorted()
    }
}

/// Canonical condition names.
public enum Condition {
    public static let control = "ctrl"
    /// Canonical name of a gene set.
    public static func name(_ genes: [String]) -> String {
        genes.isEmpty ? control : Array(Set(genes)).sorted().joined(separator: "+")
    }
    /// Genes of a canonical name.
    public static func genes(_ name: String) -> [String] {
        name == control ? [] : name.split(separator: "+").map(String.init)
    }
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

extension LabelSyntax {
    /// `--control LABEL` and `--sep S`, the label syntax options of pv-normalize and pv-split.
    public static let controlOption = Option<String>("control", "LABEL", default: "ctrl", group: "Labels",
                                                     help: "label of control cells ('' for empty labels)")
    public static let separatorOption = Option<String>("sep", "S", default: "+", group: "Labels",
                                                       help: "separator between the genes of a combination label")
    public static let options: [any OptionDeclaration] = [controlOption, separatorOption]

    /// The syntax a parsed command line names; an empty --sep is a usage error.
    public init(_ o: Options) throws {
        let sep = o[Self.separatorOption]
        if sep.isEmpty { throw PVError.usage("--sep must not be empty: it separates the genes of a combination label (e.g. '+')") }
        self.init(control: o[Self.controlOption], separator: sep)
    }
}
