import Foundation

/// What pv-report reads and how it assembles the HTML: the score table from scores.json; with expr.npy, split.tsv
/// and predictions, the scatters of the held-out doubles; with models, their training curves and learned graphs.
public struct ReportJob {
    public var scoresPath: String
    public var exprPath: String?
    public var splitPath: String?
    public var genesPath: String?
    /// (name, pv-predict's folder or its pred.npy), in the order their panels appear.
    public var predictions: [(name: String, path: String)] = []
    /// (name, model.npz).
    public var models: [(name: String, path: String)] = []
    /// The yardstick every predictor is compared with (shaded in the table); nil: the one scores.json names, else
    /// additive.
    public var reference: String?
    /// |Λ_νν| above which an entry is drawn as an edge (pv-predict --edge-threshold).
    public var edgeThreshold = Float(ReportOptions.edgeThreshold.defaultValue)
    public var title = ReportOptions.title.defaultValue

    public init(scoresPath: String) { self.scoresPath = scoresPath }

    /// Reads every input and returns the report's HTML (nothing is written here).
    public func run() throws -> String {
        let scoresName = displayName(scoresPath)
        let doc = try ScoresDocument(data: Data(try ByteSource(path: scoresPath).readAll()), name: scoresName)
        var report = HTMLReport(title: title)
        report.facts.append("Scores: \(scoresName) (set \(doc.set); \(doc.predictors.count) predictors: \(doc.predictors.map(\.name).joined(separator: ", ")))")
        if let exprPath, let splitPath { report.facts.append("Truth: \(exprPath), \(splitPath)") }
        report.facts.append("Written by \(ToolContext.name) \(pvVersion)")
        report.sections.append(ScoreTableSection.make(doc, reference: reference ?? doc.reference ?? "additive"))

        if let exprPath, let splitPath, !predictions.isEmpty {
            let data = try ChangeData(exprPath: exprPath, splitPath: splitPath, genesPath: genesPath,
                                      predictions: predictions, set: doc.set, controlSet: doc.controlSet,
                                      deGenes: doc.deGenes)
            let order = predictions.map(\.name)
            report.sections.append(ScatterSections.changes(data, order: order))
            report.sections.append(ScatterSections.interactions(data, order: order))
        }

        var files: [(name: String, file: ModelFile)] = []
        var graphs: [(name: String, graph: LearnedGraph, targets: [String])] = []
        for m in models {
            let loaded = try LoadedModel(path: m.path)
            files.append((m.name, loaded.file))
            if let p = loaded.pvae { graphs.append((m.name, p.learnedGraph(targetCount: loaded.file.targets.count), loaded.file.targets)) }
        }
        if !models.isEmpty {
            report.sections.append(TrainingCurvesSection.make(models: files))
            report.sections.append(GraphSection.make(models: graphs, threshold: edgeThreshold))
        }
        return report.render()
    }
}
