import PVShared

runTool("pv-normalize") {
    let o = try Options(
        tool: "pv-normalize",
        synopsis: "pv-normalize [options] --out DIR TENX_DIR   (or --matrix M --barcodes B --features F)",
        description: """
        Raw counts of a 10x folder (matrix.mtx[.gz] genes x cells, barcodes.tsv[.gz], features.tsv[.gz] or
        genes.tsv[.gz])
        -> filters -> normalize_total -> log1p -> highly variable genes, as scanpy 1.11 computes them.
        Writes DIR/expr.npy (cells x kept genes, float32), DIR/genes.tsv and DIR/obs.tsv, all or nothing.
        Perturbation target genes named in --labels that are in the panel are always kept.
        """,
        options: NormalizeOptions.all,
        positionals: 0...1)
    let dir = o.positionals.first
    if dir == "-" { throw PVError.usage("TENX_DIR must be a folder, not '-'") }
    let paths = try TenXPaths.locate(dir: dir, matrix: o[NormalizeOptions.matrix], barcodes: o[NormalizeOptions.barcodes],
                                     features: o[NormalizeOptions.features])
    let outDir = try o.required(NormalizeOptions.out)
    if outDir == "-" { throw PVError.usage("--out must be a folder; expr.npy, genes.tsv and obs.tsv cannot go to stdout ('-')") }
    try NormalizePipeline.run(try NormalizeConfig(o, paths: paths, outDir: outDir))
}
