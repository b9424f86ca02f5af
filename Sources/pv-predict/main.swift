import Foundation
import PVShared

let description = """
Predicts cells under perturbations, including double-gene combinations never seen in training, by starting from \
real control cells of split.tsv (set 'train'; other sets when it has none). Writes DIR/pred.npy (cells x genes, \
float32) and DIR/pred.tsv (row, condition, control_barcode).

Conditions: every test condition of split.tsv (those with a gene the model was not trained on are skipped with a
warning), or --conditions. A given condition with an unknown gene is an error; see the known targets with
pv-predict --list-targets model.npz.
--predict prior decodes from the condition's prior (DESIGN.md §5); --predict delta adds f(u) - f(0) to each control
cell with a common noise draw, which removes a shared control offset (much lower MSE on small screens).
Baseline models (pv-train --model control|mean|additive) shift real control cells by their predicted change.
"""

runTool("pv-predict") {
    let o = try Options(tool: "pv-predict", synopsis: "pv-predict [options] --out DIR model.npz expr.npy split.tsv",
                        description: description, specs: [
        OptionSpec("out", short: "o", value: "DIR", help: "output folder for pred.npy and pred.tsv (created if needed)"),
        OptionSpec("conditions", value: "LIST", help: "comma-separated conditions, e.g. \"KLF1+MAP2K6,CEBPE\" [default: the test conditions of split.tsv]"),
        OptionSpec("cells-per-condition", value: "N", default: "as many as the truth has in split.tsv, else 100", help: "predicted cells per condition"),
        OptionSpec("predict", value: "prior|delta", default: "prior", help: "prior: decode from the condition's prior; delta: control cell + f(u) - f(0)"),
        OptionSpec("seed", value: "N", default: "0", help: "random seed (control cells drawn, response noise)"),
        OptionSpec("batch", value: "N", default: "256", help: "cells per forward pass"),
        .flag("list-targets", help: "print the perturbation targets of model.npz, one per line, and exit"),
        OptionSpec("latents", value: "FILE", help: "also write mu_inv and z_resp (posterior means) of every cell of split.tsv with known targets (TSV)"),
        OptionSpec("graph", value: "FILE", help: "also write the learned graph Lambda_resp (edges) and each target's program (TSV)"),
        OptionSpec("edge-threshold", value: "X", default: "0.25", help: "|weight| above which a Lambda_resp entry is an edge in --graph"),
    ], positionals: 1...3)

    let modelPath = o.positionals[0]
    if o.flag("list-targets") {
        let m = try ModelFile(path: modelPath)
        for t in m.targets { print(t) }
        return
    }
    guard o.positionals.count == 3 else {
        throw PVError.usage("expected 3 input arguments, model.npz expr.npy split.tsv (usage: pv-predict [options] --out DIR model.npz expr.npy split.tsv)")
    }
    let outDir = try o.required("out")
    if outDir == "-" { throw PVError.usage("--out must be a folder; pred.npy and pred.tsv cannot go to stdout ('-')") }
    if o.string("latents") == "-" && o.string("graph") == "-" {
        throw PVError.usage("only one output can go to stdout ('-'), not --latents and --graph")
    }
    let exprPath = o.positionals[1], splitPath = o.positionals[2]
    let mode = try PredictMode(rawValue: o.choice("predict", ["prior", "delta"]))!
    let seed = try o.int("seed")
    guard seed >= 0 else { throw PVError.usage("--seed must be at least 0") }
    let batch = try o.int("batch")
    guard batch >= 2 else { throw PVError.usage("--batch must be at least 2") }
    let threshold = Float(try o.double("edge-threshold"))

    let model = try ModelFile(path: modelPath)
    let mname = displayName(modelPath)
    let exprArr = try NPYArray(path: exprPath)
    let (rows, cols, values) = try exprArr.matrix()
    let split = try SplitTable(path: splitPath)
    try split.check(rows: rows, exprName: displayName(exprPath))
    guard model.genes.count == cols else {
        throw PVError.badInput(file: mname, "model has \(model.genes.count) genes but \(displayName(exprPath)) has \(cols) columns")
    }
    // The genes of expr.npy (genes.tsv beside it, as pv-train reads them) must be the model's, in its order: the same
    // count from another normalisation would otherwise be decoded silently into the wrong columns.
    if let gpath = GeneNames.besideExpr(exprPath) {
        let names = try GeneNames.read(gpath, cols: cols)
        if let j = names.indices.first(where: { names[$0] != model.genes[$0] }) {
            throw PVError.badInput(file: displayName(gpath), "gene \(j + 1) is '\(names[j])' but \(mname) has '\(model.genes[j])' there: \(displayName(exprPath)) is not from the pv-normalize run the model was trained on")
        }
    }
    // Everything about the model is checked before the output folder is created, so a bad model leaves nothing.
    var predictor: PVPredictor?
    if model.kind == "pvae" {
        let cfg = try PVModelIO.config(of: model, file: mname)
        let vae = PerturbedVAE(config: cfg, maxRows: max(batch, model.targets.count + 1))
        try PVModelIO.loadWeights(model, into: vae.store, file: mname)
        predictor = PVPredictor(vae: vae, targets: model.targets)
    } else {
        guard Baselines.kinds.contains(model.kind) else {
            throw PVError.badInput(file: mname, "model kind '\(model.kind)' is unknown (expected pvae or a baseline: \(Baselines.kinds.joined(separator: ", ")))")
        }
        for opt in ["latents", "graph"] where o.given(opt) {
            throw PVError.usage("--\(opt) needs a pvae model (\(mname) is kind \(model.kind))")
        }
    }
    let known = Set(model.targets)
    let hint = "see the known targets with: pv-predict --list-targets \(modelPath)"

    // Conditions.
    var conditions: [String] = []
    if let list = o.string("conditions") {
        let syntax = LabelSyntax()
        for raw in list.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
            let c = syntax.canonical(raw)
            if c == Condition.control { throw PVError.usage("--conditions: '\(raw)' is the control condition; nothing to predict") }
            if let g = Condition.genes(c).first(where: { !known.contains($0) }) {
                throw PVError.usage("--conditions: gene \(g) of \(c) was not a perturbation target in training of \(mname); \(hint)")
            }
            if !conditions.contains(c) { conditions.append(c) }
        }
        guard !conditions.isEmpty else { throw PVError.usage("--conditions is empty") }
    } else {
        var seen = Set<String>(), skipped: [String] = []
        for r in split.rows(set: "test") where split.conditions[r] != Condition.control && !seen.contains(split.conditions[r]) {
            let c = split.conditions[r]
            seen.insert(c)
            if let g = Condition.genes(c).first(where: { !known.contains($0) }) { skipped.append("\(c) (\(g))"); continue }
            conditions.append(c)
        }
        if !skipped.isEmpty {
            warn("skipping \(skipped.count) test condition(s) with a gene the model was not trained on: \(skipped.prefix(5).joined(separator: ", "))\(skipped.count > 5 ? ", ..." : ""); \(hint)")
        }
        guard !conditions.isEmpty else {
            throw PVError.badInput(file: split.name, "no test condition whose genes are all training targets of \(mname); give --conditions (\(hint))")
        }
    }

    // Control cells to start from.
    var controls = split.rows(set: "train", condition: Condition.control)
    if controls.isEmpty { controls = split.controlRows }
    guard !controls.isEmpty else { throw PVError.badInput(file: split.name, "no control cells (condition 'ctrl') to start predictions from") }
    var counts: [String: Int] = [:]
    for r in split.rows(set: "test") { counts[split.conditions[r], default: 0] += 1 }
    var anyCounts: [String: Int] = [:]
    for c in split.conditions { anyCounts[c, default: 0] += 1 }
    let fixedN = try o.intIfPresent("cells-per-condition")
    if let n = fixedN, n < 1 { throw PVError.usage("--cells-per-condition must be at least 1") }

    try ensureDirectory(outDir)
    let G = cols
    let total = conditions.reduce(0) { $0 + (fixedN ?? counts[$1] ?? anyCounts[$1] ?? 100) }
    let npyOut = try OutputFile(outDir + "/pred.npy")
    let tsvOut = try OutputFile(outDir + "/pred.tsv")
    try npyOut.write(npyFloat32Header(shape: [total, G]))
    var tsv = provenanceLines().joined(separator: "\n") + "\nrow\tcondition\tcontrol_barcode\n"

    let progress = Progress("predicting", total: total, unit: "cells")
    var row = 0
    for (ci, c) in conditions.enumerated() {
        let n = fixedN ?? counts[c] ?? anyCounts[c] ?? 100
        var rng = RNG(seed: UInt64(seed), stream: UInt64(ci) &+ 1)
        let sources: [Int] = n <= controls.count
            ? rng.sample(controls.count, n).map { controls[$0] }
            : (0..<n).map { _ in controls[rng.int(below: controls.count)] }
        var buf = [Float](repeating: 0, count: n * G)
        if let predictor {
            guard case .success(let t) = predictor.targets(of: c) else { continue }
            buf.withUnsafeMutableBufferPointer {
                predictor.predict(targets: t, sources: sources, expr: values.baseAddress!, mode: mode, rng: &rng, out: $0.baseAddress!)
            }
        } else {
            let d = try Baselines.delta(model: model, condition: c)
            guard d.count == G else { throw PVError.badInput(file: mname, "baseline delta for \(c) has \(d.count) values, expected \(G)") }
            for (k, s) in sources.enumerated() {
                for j in 0..<G { buf[k * G + j] = values[s * G + j] + d[j] }
            }
        }
        try buf.withUnsafeBytes { try npyOut.write($0) }
        for s in sources { tsv += "\(row)\t\(c)\t\(split.barcodes[s])\n"; row += 1 }
        progress.advance(n)
    }
    progress.finish()
    try tsvOut.write(tsv)

    var extra: [OutputFile] = []
    if let lpath = o.string("latents"), let predictor {
        let f = try OutputFile(lpath)
        var cells: [Int] = [], tg: [[Int]] = []
        for r in 0..<split.count { if case .success(let t) = predictor.targets(of: split.conditions[r]) { cells.append(r); tg.append(t) } }
        let lat = predictor.latents(rows: cells, targets: tg, expr: values.baseAddress!)
        let dI = predictor.vae.cfg.latentInv, dN = predictor.vae.cfg.latentResp
        var s = provenanceLines().joined(separator: "\n") + "\n"
        s += (["barcode", "condition", "set"] + (1...dI).map { "mu_inv_\($0)" } + (1...dN).map { "z_resp_\($0)" }).joined(separator: "\t") + "\n"
        for (k, r) in cells.enumerated() {
            s += ([split.barcodes[r], split.conditions[r], split.sets[r]] + lat[k].map { String(format: "%.6g", $0) }).joined(separator: "\t") + "\n"
        }
        try f.write(s)
        extra.append(f)
    }
    if let gpath = o.string("graph"), let predictor {
        let f = try OutputFile(gpath)
        var s = provenanceLines().joined(separator: "\n") + "\n" + "kind\tcondition\tsource\ttarget\tweight\n"
        for r in predictor.graph(targetNames: model.targets, threshold: threshold) { s += r.joined(separator: "\t") + "\n" }
        try f.write(s)
        extra.append(f)
    }
    try npyOut.commit(); try tsvOut.commit()
    for f in extra { try f.commit() }
    info("wrote \(row) predicted cells of \(conditions.count) conditions (\(mode.rawValue)) to \(outDir)")
}
