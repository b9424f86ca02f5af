import Foundation

/// pv-report's options, declared once: help, parsing, bounds and `ReportJob`'s defaults come from here.
public enum ReportOptions {
    public static let synopsis = "pv-report [options] --out report.html scores.json [expr.npy split.tsv]"

    public static let out = Option<String?>("out", short: "o", "FILE", default: nil, help: "the HTML report (- for stdout)")
    public static let pred = Option<String?>("pred", "NAME=PRED_DIR", default: nil, repeatable: true,
                                             help: "a prediction (pv-predict's folder, or its pred.npy) for the scatters")
    public static let model = Option<String?>("model", "NAME=model.npz", default: nil, repeatable: true,
                                              help: "a model for training curves and graph (pvae; baselines are listed)")
    public static let reference = Option<String?>("reference", "NAME", default: nil,
                                                  defaultText: "the one scores.json names, else additive",
                                                  help: "the predictor to beat, shaded in the score table")
    public static let edgeThreshold = Option<Double>("edge-threshold", "X", default: 0.25, .atLeast(0),
                                                     help: "|weight| above which a Lambda_resp entry is drawn as an edge")
    public static let genes = Option<String?>("genes", "FILE", default: nil, defaultText: "genes.tsv beside expr.npy",
                                              help: "gene names (pv-normalize's genes.tsv)")
    public static let title = Option<String>("title", "TEXT", default: "pv report", help: "the report's title")

    public static let all: [any OptionDeclaration] = [out, pred, model, reference, edgeThreshold, genes, title]

    /// The NAME=PATH values of a repeatable option, in order; a usage error names a malformed one.
    static func named(_ option: Option<String?>, in o: Options, _ what: String) throws -> [(name: String, path: String)] {
        try o.all(option).compactMap { $0 }.map { spec in
            guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex, spec.index(after: eq) != spec.endIndex else {
                throw PVError.usage("--\(option.name) expects NAME=\(what), got '\(spec)'")
            }
            return (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
        }
    }
}

extension ReportJob {
    /// The report a parsed pv-report command line asks for: scores.json, or scores.json expr.npy split.tsv.
    public init(_ o: Options) throws {
        guard o.positionals.count != 2 else {
            throw PVError.usage("expected scores.json, or scores.json expr.npy split.tsv (usage: \(ReportOptions.synopsis))")
        }
        self.init(scoresPath: o.positionals[0])
        predictions = try ReportOptions.named(ReportOptions.pred, in: o, "PRED_DIR")
        models = try ReportOptions.named(ReportOptions.model, in: o, "model.npz")
        if o.positionals.count == 3 { exprPath = o.positionals[1]; splitPath = o.positionals[2] }
        if !predictions.isEmpty && exprPath == nil {
            throw PVError.usage("--pred needs the truth: give scores.json expr.npy split.tsv")
        }
        genesPath = o[ReportOptions.genes]
        if o.given(ReportOptions.reference) { reference = try o.required(ReportOptions.reference) }
        edgeThreshold = Float(o[ReportOptions.edgeThreshold])
        title = o[ReportOptions.title]
        if title.isEmpty { throw PVError.usage("option --title is required (see pv-report --help)") }
    }
}
