import Foundation

/// pv-predict's outputs in one folder, committed together:
/// - `pred.npy` (cells x genes, float32) and `pred.tsv` (row, condition, control_barcode): predicted cells;
/// - `means.npy` (conditions x genes, float32) and `means.tsv` (row, condition): each condition's predicted mean.
///
/// The means are what pv-score's mean metrics read: for a mean-shift baseline exactly (mean of all training
/// controls) + predicted change, for PerturbedVAE its expectation over all training control cells, never the
/// mean of the few control cells that happened to be drawn for the cells. Both are clamped at 0.
///
/// Clamp rule for cells: log-expression is never negative, so every cell value is max(0, x). For a mean-shift
/// baseline a cell is max(0, x0 + d) for its own control cell x0: each cell keeps its own spread, and the exact
/// mean goes to means.npy (the clamp shifts only the cells' mean, which the mean metrics do not read).
public final class PredictionWriter {
    let npy: OutputFile, tsv: OutputFile, meansNpy: OutputFile, meansTsv: OutputFile
    /// The four outputs and any extra ones (`extra`), renamed into place together; each carries the run id.
    let outputs: OutputSet
    let genes: Int, cells: Int, conditions: Int
    var tsvBody = "", meansBody = ""
    var extras: [(file: OutputFile, text: String)] = []
    /// Hash of everything written, the run id (`RunStamp`): identical runs write identical files.
    var fingerprint = RunStamp.Fingerprint()
    public private(set) var cellsWritten = 0, conditionsWritten = 0
    /// Lines about how the predictions were made (fitted weights), written as `# ` lines into both TSVs' provenance.
    public var notes: [String] = []

    /// Creates the four outputs under `dir` (created if needed) for `cells` cells of `conditions` conditions.
    public init(dir: String, cells: Int, conditions: Int, genes: Int) throws {
        try ensureDirectory(dir)
        // Their headers carry the run id, rewritten once the data are hashed: a pipe is refused before any work.
        for name in ["pred.npy", "means.npy"] { try OutputFile.requireRewritable(dir + "/" + name) }
        RunStamp.begin()
        outputs = OutputSet()
        self.genes = genes; self.cells = cells; self.conditions = conditions
        npy = try outputs.file(dir + "/pred.npy")
        tsv = try outputs.file(dir + "/pred.tsv")
        meansNpy = try outputs.file(dir + "/means.npy")
        meansTsv = try outputs.file(dir + "/means.tsv")
        // The headers carry the pending id until the data are hashed (`commit`), then are rewritten in place.
        try npy.write(NPYHeader(dtype: .float32, shape: [cells, genes]).encoded(run: RunStamp.id))
        try meansNpy.write(NPYHeader(dtype: .float32, shape: [conditions, genes]).encoded(run: RunStamp.id))
        fingerprint.add("pred \(cells)x\(genes), means \(conditions)x\(genes)")
    }

    /// Appends one condition: its cells (rows of `genes`), the barcodes they started from, and its mean.
    public func append(condition: String, cells: [Float], barcodes: [String], mean: [Double]) throws {
        precondition(cells.count == barcodes.count * genes && mean.count == genes)
        try cells.withUnsafeBytes { try npy.write($0); fingerprint.add($0) }
        for b in barcodes { tsvBody += "\(cellsWritten)\t\(condition)\t\(b)\n"; cellsWritten += 1 }
        try mean.map { Float($0) }.withUnsafeBytes { try meansNpy.write($0); fingerprint.add($0) }
        meansBody += "\(conditionsWritten)\t\(condition)\n"; conditionsWritten += 1
    }

    /// Adds another output committed with the predictions (`--latents`, `--graph`); `label` names its option. Its
    /// text is part of the run id and gets the id in its provenance (written with `provenanceLines()`).
    public func extra(_ path: String, label: String, text: String) throws {
        extras.append((try outputs.file(path, label: label), text))
    }

    /// Derives the run id from everything written, writes the TSVs and commits every output together: all are
    /// written and synced before any is renamed.
    public func commit() throws {
        fingerprint.add(tsvBody); fingerprint.add(meansBody)
        for e in extras { fingerprint.addContent(e.text) }
        RunStamp.derive(from: fingerprint)
        try npy.overwrite(at: 0, NPYHeader(dtype: .float32, shape: [cells, genes]).encoded(run: RunStamp.id))
        try meansNpy.overwrite(at: 0, NPYHeader(dtype: .float32, shape: [conditions, genes]).encoded(run: RunStamp.id))
        for n in notes { fingerprint.add(n) }
        let prov = (provenanceLines() + notes.map { "# " + $0 }).joined(separator: "\n") + "\n"
        try tsv.write(prov + "row\tcondition\tcontrol_barcode\n" + tsvBody)
        try meansTsv.write(prov + "row\tcondition\n" + meansBody)
        for e in extras { try e.file.write(RunStamp.stamped(e.text)) }
        try outputs.commit()
    }

    /// Clamps `count` values at 0 (the clamp rule above).
    public static func clampCells(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count where !(p[i] >= 0) { p[i] = p[i].isNaN ? p[i] : 0 }
    }
}
