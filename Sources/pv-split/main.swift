import PVShared

let description = """
Assigns every cell of a labelled screen to train, val or test for pv-train, pv-predict and pv-score.
Input: obs.tsv from pv-normalize (or any barcode<TAB>label table, with or without header; `-` for stdin).
Output (--out): split.tsv with columns barcode, label, condition (canonical: `ctrl`, or genes sorted and joined
by `+`), set (train, val, test; empty = unused), group; one row per input cell, in input order. A summary
(conditions and cells per set and group) goes to stderr.

Labels: --control names the control label (e.g. ctrl, non-targeting, NegCtrl, or '' for empty labels), --sep the
gene separator (`+`, `,`, `_`); gene order inside a label does not matter and any number of genes is allowed.

Schemes (--scheme):
  singles-to-doubles  (default; PerturbedVAE / discrepancy-VAE) train on control and every single-gene condition.
      The --holdout-singles largest singles each lose --holdout-cells random cells to test (group single; at most
      20% of a condition's cells, with a warning on small data). --val-cells random cells of every single go to
      val (group single) for checkpoint selection. Every combination whose genes all occur as singles is test
      (group double; `multi` for 3+ genes); a combination with a gene never seen alone is unused (group unseen).
  gears-simulation    (GEARS `simulation`) a random --train-gene-frac of the genes are training genes; singles of the
      others are test (unseen_single), combinations with k genes seen are test (combo_seen0, combo_seen1);
      of those with all genes seen, --combo-seen2-train-frac train and the rest are test (combo_seen2).
      Validation conditions are carved from the training ones the same way (--val-gene-frac, --val-combo-frac).
  random-cells        a random --val-frac and --test-frac of every condition's cells (same condition in all sets).
  custom              --custom FILE: condition<TAB>set[<TAB>group] (header optional; set none or empty = unused).
Groups of training cells: control, single, double (multi for 3+ genes). Control cells are train in every
scheme (unless the custom table places them); --control-holdout F moves a fraction F of them to test (group
control). --seed fixes every random choice.
"""

runTool("pv-split") {
    let o = try Options(tool: "pv-split", synopsis: "pv-split [options] --out split.tsv obs.tsv", description: description, specs: [
        OptionSpec("out", short: "o", value: "FILE", help: "output split table (`-` for stdout); required"),
        OptionSpec("scheme", value: "NAME", default: "singles-to-doubles",
                   help: "singles-to-doubles, gears-simulation, random-cells or custom"),
        OptionSpec("control", value: "LABEL", default: "ctrl", help: "label of control cells ('' for empty labels)"),
        OptionSpec("sep", value: "S", default: "+", help: "separator between the genes of a combination label"),
        OptionSpec("barcode-column", value: "NAME", default: "barcode", help: "barcode column of a table with a header"),
        OptionSpec("label-column", value: "NAME", default: "label", help: "label column of a table with a header"),
        OptionSpec("seed", value: "N", default: "0", help: "random seed (every random choice)"),
        OptionSpec("holdout-singles", value: "N", default: "14", help: "singles-to-doubles: largest singles that lose cells to test"),
        OptionSpec("holdout-cells", value: "N", default: "96", help: "singles-to-doubles: test cells taken from each of them"),
        OptionSpec("val-cells", value: "N", default: "auto",
                   help: "singles-to-doubles: val cells per training single (auto: 5% of its remaining cells, at least 1 when 10 remain)"),
        OptionSpec("train-gene-frac", value: "F", default: "0.75", help: "gears-simulation: fraction of genes seen in training"),
        OptionSpec("combo-seen2-train-frac", value: "F", default: "0.75", help: "gears-simulation: fraction of all-seen combinations trained on"),
        OptionSpec("val-gene-frac", value: "F", default: "0.9", help: "gears-simulation: the same, carving val from train"),
        OptionSpec("val-combo-frac", value: "F", default: "0.9", help: "gears-simulation: the same, carving val from train"),
        OptionSpec("val-frac", value: "F", default: "0.1", help: "random-cells: fraction of each condition's cells to val"),
        OptionSpec("test-frac", value: "F", default: "0.1", help: "random-cells: fraction of each condition's cells to test"),
        OptionSpec("custom", value: "FILE", help: "custom: condition<TAB>set table (implies --scheme custom)"),
        OptionSpec("control-holdout", value: "F", default: "0", help: "fraction of control cells moved to test"),
    ], positionals: 1...1)

    let outPath = try o.required("out")
    var cfg = SplitConfig()
    let schemeName = o.given("scheme") || !o.given("custom") ? try o.choice("scheme", SplitScheme.allCases.map(\.rawValue)) : "custom"
    cfg.scheme = SplitScheme(rawValue: schemeName)!
    if cfg.scheme == .custom && !o.given("custom") { throw PVError.usage("--scheme custom needs --custom FILE (condition<TAB>set)") }
    if cfg.scheme != .custom && o.given("custom") { throw PVError.usage("--custom is only used with --scheme custom, not \(schemeName)") }
    // Options of another scheme are named, so that nobody believes they had an effect.
    let schemeOptions: [String: [String]] = [
        "singles-to-doubles": ["holdout-singles", "holdout-cells", "val-cells"],
        "gears-simulation": ["train-gene-frac", "combo-seen2-train-frac", "val-gene-frac", "val-combo-frac"],
        "random-cells": ["val-frac", "test-frac"],
    ]
    let unused = schemeOptions.filter { $0.key != schemeName }.values.flatMap { $0 }.filter { o.given($0) }.sorted()
    if !unused.isEmpty {
        warn("--scheme \(schemeName) does not use \(unused.map { "--" + $0 }.joined(separator: ", ")); ignored")
    }
    let seed = try o.int("seed")
    guard seed >= 0 else { throw PVError.usage("--seed must be non-negative, got \(seed)") }
    cfg.seed = UInt64(seed)
    func nonNegInt(_ n: String) throws -> Int {
        let v = try o.int(n); guard v >= 0 else { throw PVError.usage("--\(n) must be non-negative, got \(v)") }; return v
    }
    func fraction(_ n: String) throws -> Double {
        let v = try o.double(n); guard (0...1).contains(v) else { throw PVError.usage("--\(n) must be between 0 and 1, got \(v)") }; return v
    }
    cfg.holdoutSingles = try nonNegInt("holdout-singles")
    cfg.holdoutCells = try nonNegInt("holdout-cells")
    cfg.valCells = o.string("val-cells") == "auto" ? nil : try nonNegInt("val-cells")
    cfg.trainGeneFrac = try fraction("train-gene-frac")
    cfg.comboSeen2TrainFrac = try fraction("combo-seen2-train-frac")
    cfg.valGeneFrac = try fraction("val-gene-frac")
    cfg.valComboFrac = try fraction("val-combo-frac")
    cfg.valFrac = try fraction("val-frac")
    cfg.testFrac = try fraction("test-frac")
    guard cfg.valFrac + cfg.testFrac <= 1 else { throw PVError.usage("--val-frac + --test-frac must not exceed 1") }
    cfg.controlHoldout = try fraction("control-holdout")

    if o.string("sep") == "" { throw PVError.usage("--sep must not be empty: it separates the genes of a combination label (e.g. '+')") }
    let syntax = LabelSyntax(control: o.string("control") ?? "ctrl", separator: o.string("sep") ?? "+")
    let cells = try LabeledCells(path: o.positionals[0], syntax: syntax,
                                 barcodeColumn: try o.required("barcode-column"), labelColumn: try o.required("label-column"))
    if cfg.scheme == .custom {
        cfg.custom = try readCustomSplit(try o.required("custom"), syntax: syntax, known: Set(cells.conditions))
    }
    let r = try makeSplit(cells, cfg)
    for w in r.warnings { warn(w) }
    let table = SplitTable(barcodes: cells.barcodes, labels: cells.labels, conditions: cells.conditions,
                           sets: r.sets, groups: r.groups)
    try table.write(outPath)
    info("scheme \(schemeName), seed \(seed): \(cells.count) cells from \(cells.name)")
    let unseen = Set(zip(cells.conditions, r.groups).filter { $0.1 == "unseen" }.map(\.0)).sorted()
    if !unseen.isEmpty {
        let shown = unseen.prefix(10).joined(separator: ", ") + (unseen.count > 10 ? ", ..." : "")
        info("\(unseen.count) combination\(unseen.count == 1 ? "" : "s") with a gene never seen alone, unused (group unseen): \(shown)")
    }
    for line in splitSummary(conditions: cells.conditions, sets: r.sets, groups: r.groups) { info(line) }
}
