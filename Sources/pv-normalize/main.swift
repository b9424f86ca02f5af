import PVShared

runTool("pv-normalize") {
    let o = try Options(
        tool: "pv-normalize",
        synopsis: "pv-normalize [options] --out DIR TENX_DIR   (or --matrix M --barcodes B --features F)",
        description: """
        Raw counts of a 10x folder (matrix.mtx[.gz] genes x cells, barcodes.tsv[.gz], features.tsv[.gz] or genes.tsv[.gz])
        -> filters -> normalize_total -> log1p -> highly variable genes, as scanpy 1.11 computes them.
        Writes DIR/expr.npy (cells x kept genes, float32), DIR/genes.tsv and DIR/obs.tsv, all or nothing.
        Perturbation target genes named in --labels that are in the panel are always kept.
        """,
        specs: [
            OptionSpec("out", short: "o", value: "DIR", help: "output folder (created if needed)"),
            OptionSpec("matrix", value: "FILE", help: "Matrix Market counts, genes x cells (instead of TENX_DIR/matrix.mtx[.gz])"),
            OptionSpec("barcodes", value: "FILE", help: "barcodes file (instead of TENX_DIR/barcodes.tsv[.gz])"),
            OptionSpec("features", value: "FILE", help: "features/genes file (instead of TENX_DIR/features.tsv[.gz] or genes.tsv[.gz])"),
            OptionSpec("labels", value: "FILE", help: "barcode<TAB>label per cell (optional header 'barcode<TAB>label'); joined by barcode"),
            .flag("drop-unlabelled", help: "drop matrix cells that have no label (default: an error)"),
            OptionSpec("control", value: "LABEL", default: "ctrl", help: "label of control cells"),
            OptionSpec("sep", value: "S", default: "+", help: "separator between the genes of a combination label"),
            OptionSpec("min-counts", value: "N", default: "0", help: "drop cells with fewer total counts (0 = off)"),
            OptionSpec("min-genes", value: "N", default: "0", help: "drop cells with fewer detected genes (0 = off)"),
            OptionSpec("min-cells", value: "N", default: "0", help: "drop genes detected in fewer cells (0 = off; targets and --keep-genes stay)"),
            OptionSpec("target-sum", value: "X", default: "median of per-cell totals", help: "normalise every cell to this total"),
            OptionSpec("n-top-genes", value: "N", default: "all genes that pass filters, none flagged", help: "keep the N most highly variable genes (highly_variable True in genes.tsv)"),
            OptionSpec("flavor", value: "F", default: "seurat", help: "HVG flavor for --n-top-genes and dispersion_norm: seurat or cell_ranger"),
            OptionSpec("n-bins", value: "N", default: "20", help: "mean bins for the normalised dispersion"),
            OptionSpec("keep-genes", value: "FILE", help: "genes (id or symbol, one per line) always kept"),
            .flag("all-features", help: "use features of every type (default: only 'Gene Expression' rows, as scanpy)"),
        ],
        positionals: 0...1)
    let dir = o.positionals.first
    if dir == "-" { throw PVError.usage("TENX_DIR must be a folder, not '-'") }
    let paths = try TenXPaths.locate(dir: dir, matrix: o.string("matrix"), barcodes: o.string("barcodes"), features: o.string("features"))
    let outDir = try o.required("out")
    if outDir == "-" { throw PVError.usage("--out must be a folder; expr.npy, genes.tsv and obs.tsv cannot go to stdout ('-')") }
    var cfg = NormalizeConfig(paths: paths, outDir: outDir)
    cfg.labelsPath = o.string("labels")
    cfg.dropUnlabelled = o.flag("drop-unlabelled")
    cfg.syntax = LabelSyntax(control: o.string("control") ?? "ctrl", separator: o.string("sep") ?? "+")
    cfg.minCounts = try o.double("min-counts")
    cfg.minGenes = try o.int("min-genes")
    cfg.minCells = try o.int("min-cells")
    if o.given("target-sum") {
        let t = try o.double("target-sum")
        guard t > 0 else { throw PVError.usage("--target-sum must be positive, got \(t)") }
        cfg.targetSum = t
    }
    if o.given("n-top-genes") {
        let n = try o.int("n-top-genes")
        guard n >= 1 else { throw PVError.usage("--n-top-genes must be at least 1, got \(n)") }
        cfg.nTopGenes = n
    }
    guard let fl = HVG.Flavor(rawValue: try o.choice("flavor", HVG.Flavor.allCases.map(\.rawValue))) else { return }
    cfg.flavor = fl
    cfg.nBins = try o.int("n-bins")
    guard cfg.nBins >= 1 else { throw PVError.usage("--n-bins must be at least 1") }
    cfg.keepGenesPath = o.string("keep-genes")
    cfg.allFeatures = o.flag("all-features")
    try NormalizePipeline.run(cfg)
}
