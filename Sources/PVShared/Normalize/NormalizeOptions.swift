import Foundation

extension HVG.Flavor: OptionChoice {}

/// pv-normalize's options, declared once: help, parsing, bounds and `NormalizeConfig`'s defaults come from here.
public enum NormalizeOptions {
    public static let out = Option<String?>("out", short: "o", "DIR", default: nil, help: "output folder (created if needed)")
    public static let matrix = Option<String?>("matrix", "FILE", default: nil, group: "Input",
                                               help: "Matrix Market counts, genes x cells (instead of TENX_DIR/matrix.mtx[.gz])")
    public static let barcodes = Option<String?>("barcodes", "FILE", default: nil, group: "Input",
                                                 help: "barcodes file (instead of TENX_DIR/barcodes.tsv[.gz])")
    public static let features = Option<String?>("features", "FILE", default: nil, group: "Input",
                                                 help: "features/genes file (instead of TENX_DIR/features.tsv[.gz] or genes.tsv[.gz])")
    public static let allFeatures = Option(flag: "all-features", group: "Input",
                                           help: "use features of every type (default: only 'Gene Expression' rows, as scanpy)")
    public static let labels = Option<String?>("labels", "FILE", default: nil, group: "Labels",
                                               help: "barcode<TAB>label per cell (optional header 'barcode<TAB>label'); joined by barcode")
    public static let dropUnlabelled = Option(flag: "drop-unlabelled", group: "Labels",
                                              help: "drop matrix cells that have no label (default: an error)")
    public static let minCounts = Option<Double>("min-counts", "N", default: 0, group: "Filters",
                                                 help: "drop cells with fewer total counts (0 = off)")
    public static let minGenes = Option<Int>("min-genes", "N", default: 0, group: "Filters",
                                             help: "drop cells with fewer detected genes (0 = off)")
    public static let minCells = Option<Int>("min-cells", "N", default: 0, group: "Filters",
                                             help: "drop genes detected in fewer cells (0 = off; targets and --keep-genes stay)")
    public static let keepGenes = Option<String?>("keep-genes", "FILE", default: nil, group: "Filters",
                                                  help: "genes (id or symbol, one per line) always kept")
    public static let targetSum = Option<Double?>("target-sum", "X", default: nil, .above(0), group: "Normalisation",
                                                  defaultText: "median of per-cell totals", help: "normalise every cell to this total")
    public static let nTopGenes = Option<Int?>("n-top-genes", "N", default: nil, .atLeast(1), group: "Normalisation",
                                               defaultText: "all, none flagged", help: "keep the top N highly_variable genes")
    public static let flavor = Option<HVG.Flavor>("flavor", "F", default: .seurat, group: "Normalisation",
                                                  help: "HVG flavor for --n-top-genes and dispersion_norm: seurat or cell_ranger")
    public static let nBins = Option<Int>("n-bins", "N", default: 20, .atLeast(1), group: "Normalisation",
                                          help: "mean bins for the normalised dispersion")

    public static let all: [any OptionDeclaration] = [out, matrix, barcodes, features, allFeatures, labels, dropUnlabelled]
        + LabelSyntax.options + [minCounts, minGenes, minCells, keepGenes, targetSum, nTopGenes, flavor, nBins]
}

extension NormalizeConfig {
    /// The run a parsed pv-normalize command line asks for, reading from `paths` into `outDir`.
    public init(_ o: Options, paths: TenXPaths, outDir: String) throws {
        self.init(paths: paths, outDir: outDir)
        labelsPath = o[NormalizeOptions.labels]
        dropUnlabelled = o[NormalizeOptions.dropUnlabelled]
        syntax = try LabelSyntax(o)
        minCounts = o[NormalizeOptions.minCounts]
        minGenes = o[NormalizeOptions.minGenes]
        minCells = o[NormalizeOptions.minCells]
        targetSum = o[NormalizeOptions.targetSum]
        nTopGenes = o[NormalizeOptions.nTopGenes]
        flavor = o[NormalizeOptions.flavor]
        nBins = o[NormalizeOptions.nBins]
        keepGenesPath = o[NormalizeOptions.keepGenes]
        allFeatures = o[NormalizeOptions.allFeatures]
    }
}
