import PVShared

let description = """
Assigns every cell of a labelled screen to train, val or test for pv-train, pv-predict and pv-score.
Input: obs.tsv from pv-normalize (or any barcode<TAB>label table, with or without header; `-` for
stdin).
Output (--out): split.tsv with columns barcode, label, condition (canonical: `ctrl`, or genes sorted
and joined by `+`), set (train, val, test; empty = unused), group; one row per input cell, in input
order. A summary (conditions and cells per set and group) goes to stderr.

Labels: --control names the control label (e.g. ctrl, non-targeting, NegCtrl, or '' for empty
labels), --sep the gene separator (`+`, `,`, `_`); gene order inside a label does not matter and any
number of genes is allowed.

Schemes (--scheme):
  singles-to-doubles  (default; PerturbedVAE / discrepancy-VAE) train on control and every
      single-gene condition. The --holdout-singles largest singles each lose --holdout-cells random
      cells to test (group single; at most 20% of a condition's cells, with a warning on small
      data). --val-cells random cells of every single go to val (group single) for checkpoint
      selection. Every combination whose genes all occur as singles is test (group double; `multi`
      for 3+ genes); a combination with a gene never seen alone is unused (group unseen).
  gears-simulation    (GEARS `simulation`) a random --train-gene-frac of the genes are training
      genes; singles of the others are test (unseen_single), combinations with k genes seen are test
      (combo_seen0, combo_seen1); of those with all genes seen, --combo-seen2-train-frac train and
      the rest are test (combo_seen2). Validation conditions are carved from the training ones the
      same way (--val-gene-frac, --val-combo-frac).
  random-cells        a random --val-frac and --test-frac of every condition's cells (same condition
      in all sets).
  custom              --custom FILE: condition<TAB>set[<TAB>group] (header optional; set none or
      empty = unused).
Groups of training cells: control, single, double (multi for 3+ genes). Control cells are train in
every scheme (unless the custom table places them); --control-holdout F moves a fraction F of them
to test (group control). --seed fixes every random choice.
"""

runTool("pv-split") {
    let o = try Options(tool: "pv-split", synopsis: "pv-split [options] --out split.tsv obs.tsv", description: description,
                        options: SplitOptions.all, positionals: 1...1)
    let outPath = try o.required(SplitOptions.out)
    var cfg = try SplitConfig(o)
    let syntax = try LabelSyntax(o)
    let cells = try LabeledCells(path: o.positionals[0], syntax: syntax,
                                 barcodeColumn: o[SplitOptions.barcodeColumn], labelColumn: o[SplitOptions.labelColumn])
    if cfg.scheme == .custom {
        cfg.custom = try readCustomSplit(o[SplitOptions.custom] ?? "", syntax: syntax, known: Set(cells.conditions))
    }
    let r = try makeSplit(cells, cfg)
    for w in r.warnings { warn(w) }
    let table = SplitTable(barcodes: cells.barcodes, labels: cells.labels, conditions: cells.conditions,
                           sets: r.sets, groups: r.groups)
    try table.write(outPath)
    info("scheme \(cfg.scheme.rawValue), seed \(cfg.seed): \(cells.count) cells from \(cells.name)")
    let unseen = Set(zip(cells.conditions, r.groups).filter { $0.1 == "unseen" }.map(\.0)).sorted()
    if !unseen.isEmpty {
        let shown = unseen.prefix(10).joined(separator: ", ") + (unseen.count > 10 ? ", ..." : "")
        info("\(unseen.count) combination\(unseen.count == 1 ? "" : "s") with a gene never seen alone, unused (group unseen): \(shown)")
    }
    for line in splitSummary(conditions: cells.conditions, sets: r.sets, groups: r.groups) { info(line) }
}
