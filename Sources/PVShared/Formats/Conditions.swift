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
