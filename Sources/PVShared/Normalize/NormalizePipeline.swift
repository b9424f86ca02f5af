import Foundation

/// Settings of one pv-normalize run (scanpy-compatible defaults).
public struct NormalizeConfig {
    public var paths: TenXPaths
    public var outDir: String
    public var labelsPath: String?
    public var dropUnlabelled = NormalizeOptions.dropUnlabelled.defaultValue
    public var syntax = LabelSyntax()
    public var minCounts = NormalizeOptions.minCounts.defaultValue
    public var minGenes = NormalizeOptions.minGenes.defaultValue
    public var minCells = NormalizeOptions.minCells.defaultValue
    /// nil: the median of per-cell totals (scanpy's default).
    public var targetSum = NormalizeOptions.targetSum.defaultValue
    /// nil: no selection, every gene that passes the filters is kept.
    public var nTopGenes = NormalizeOptions.nTopGenes.defaultValue
    public var flavor = NormalizeOptions.flavor.defaultValue
    public var nBins = NormalizeOptions.nBins.defaultValue
    public var keepGenesPath: String?
    /// Keep features of every type; by default only "Gene Expression" rows are used, as scanpy's read_10x_mtx does.
    public var allFeatures = NormalizeOptions.allFeatures.defaultValue

    public init(paths: TenXPaths, outDir: String) { self.paths = paths; self.outDir = outDir }
}

/// counts -> filters -> normalize_total -> log1p -> highly variable genes -> expr.npy, genes.tsv, obs.tsv.
public enum NormalizePipeline {
    /// Summary figures of a run (also printed on stderr).
    public struct Summary {
        public var cellsIn = 0, cellsOut = 0, genesIn = 0, genesKept = 0, nonzeros = 0
        public var target: Float = 0
    }

    @discardableResult
    public static func run(_ cfg: NormalizeConfig) throws -> Summary {
        let t0 = Date()
        var sum = Summary()
        // The bin edges and per-bin statistics of the dispersion (HVG): --n-bins 1000000000000 aborted there.
        try MemoryBudget.require(32 * (CheckedSize(cfg.nBins) + 1), for: "--n-bins \(cfg.nBins)")
        // expr.npy's header carries the run id, a hash of the data: said before the long read, not after it.
        let exprPath = (cfg.outDir as NSString).appendingPathComponent("expr.npy")
        try OutputFile.requireRewritable(exprPath)
        let allFeatures = try readFeatures(cfg.paths.features)
        let barcodes = try readBarcodes(cfg.paths.barcodes)
        let fName = displayName(cfg.paths.features), bName = displayName(cfg.paths.barcodes)
        // pv-simulate's cells.tsv must come from the same run as the matrix beside it.
        if let l = cfg.labelsPath, l != "-", cfg.paths.matrix != "-",
           URL(fileURLWithPath: l).deletingLastPathComponent().standardizedFileURL == URL(fileURLWithPath: cfg.paths.matrix).deletingLastPathComponent().standardizedFileURL {
            try RunStamp.requireSameRun([cfg.paths.matrix, l])
        }
        let labels = try cfg.labelsPath.map { try CellLabels(path: $0) }
        // Labels are checked before the (long) matrix read: unknown barcodes, unlabelled cells.
        var cellLabels = [String](repeating: "", count: barcodes.count)
        var keepCells = Array(0..<barcodes.count)
        if let labels {
            var index: [String: Int] = [:]
            for (i, b) in barcodes.enumerated() { index[b] = i }
            for b in labels.order where index[b] == nil {
                throw PVError.badInput(file: labels.name, line: labels.lineOf[b],
                                       "barcode \(b) is not in \(bName)")
            }
            keepCells = []
            for (i, b) in barcodes.enumerated() {
                if let l = labels.byBarcode[b] {
                    if let p = cfg.syntax.problem(l) { throw PVError.badInput(file: labels.name, line: labels.lineOf[b], p) }
                    cellLabels[i] = l; keepCells.append(i)
                }
                else if !cfg.dropUnlabelled {
                    throw PVError.badInput(file: bName, line: i + 1,
                                           "barcode \(b) has no label in \(labels.name) (use --drop-unlabelled to drop such cells)")
                }
            }
            if keepCells.isEmpty { throw PVError.badInput(file: labels.name, "no barcode of \(bName) has a label") }
        }
        var keepList: [String] = []
        if let kp = cfg.keepGenesPath {
            let r = try LineReader(path: kp)
            while let l = try r.nextString() {
                let t = l.trimmingCharacters(in: .whitespaces)
                if t.isEmpty || t.hasPrefix("#") { continue }
                keepList.append(t)
            }
        }

        let (header, full, readTotals) = try MatrixMarket.readCellsByGenesWithTotals(
            path: cfg.paths.matrix,
            expect: MatrixMarketExpectedShape(genes: allFeatures.count, genesFile: fName, cells: barcodes.count, cellsFile: bName),
            allowPattern: false, progress: !ToolContext.quiet)
        _ = header
        let tRead = Date()
        sum.cellsIn = barcodes.count
        var x = keepCells.count == full.rows ? full : full.selectingRows(keepCells)
        // Totals of x as the reader summed them, while x is the matrix read (no cell or gene dropped).
        var fullTotals = keepCells.count == full.rows ? readTotals : nil
        // Other feature types (CRISPR Guide Capture, Antibody Capture) are not genes: dropped, as scanpy's gex_only.
        var features = allFeatures
        let gex = allFeatures.map { $0.type == "Gene Expression" }
        if !cfg.allFeatures && gex.contains(false) {
            let types = Set(allFeatures.filter { $0.type != "Gene Expression" }.map(\.type)).sorted()
            guard gex.contains(true) else {
                throw PVError.badInput(file: fName, "no 'Gene Expression' feature (types: \(types.joined(separator: ", "))); use --all-features")
            }
            x = x.selectingColumns(gex)
            fullTotals = nil
            features = zip(allFeatures, gex).filter { $0.1 }.map { $0.0 }
            info("using the \(features.count) 'Gene Expression' features; \(allFeatures.count - features.count) others (\(types.joined(separator: ", "))) dropped")
        }
        sum.genesIn = features.count

        // Cell filters (scanpy filter_cells), then gene filter on the remaining cells (filter_genes).
        if cfg.minCounts > 0 || cfg.minGenes > 0 {
            let (tot, det) = fullTotals.map { ($0.totals, $0.detected) } ?? Normalization.cellTotals(x)
            let pass = (0..<x.rows).filter { Double(tot[$0]) >= cfg.minCounts && det[$0] >= cfg.minGenes }
            if pass.isEmpty {
                throw PVError.badInput(file: displayName(cfg.paths.matrix),
                                       "no cell passes --min-counts \(cfg.minCounts) and --min-genes \(cfg.minGenes)")
            }
            if pass.count < x.rows { x = x.selectingRows(pass); keepCells = pass.map { keepCells[$0] }; fullTotals = nil }
        }
        var universe = [Bool](repeating: true, count: features.count)
        if cfg.minCells > 0 {
            let n = Normalization.cellsPerGene(x)
            for g in 0..<features.count { universe[g] = n[g] >= cfg.minCells }
            if !universe.contains(true) {
                throw PVError.badInput(file: displayName(cfg.paths.matrix), "no gene passes --min-cells \(cfg.minCells)")
            }
        }

        // normalize_total + log1p.
        let (totals, detected) = cfg.minCells == 0 ? fullTotals.map { ($0.totals, $0.detected) } ?? Normalization.cellTotals(x)
                                                   : Normalization.cellTotals(x, geneMask: universe)
        let target: Float = cfg.targetSum.map { Float($0) } ?? Stats.median(totals)
        if !(target > 0) {
            throw PVError.badInput(file: displayName(cfg.paths.matrix), "the median count per cell is 0; give --target-sum")
        }
        let sf = Normalization.sizeFactors(totals: totals, target: target)
        let empty = sf.filter { $0 == 0 }.count
        if empty > 0 { warn("\(empty) cells have zero counts (kept, all zero)") }

        // Gene statistics of the log-normalised values (log1p(x / sf), computed on the fly; x keeps the counts) and
        // highly variable genes over the genes that passed the filters.
        let (rawMean, rawVar) = Normalization.logNormMeanVar(x, sizeFactors: sf, expm1Transform: cfg.flavor == .seurat)
        let (means, disps) = HVG.meansAndDispersions(mean: rawMean, variance: rawVar, flavor: cfg.flavor)
        let uIdx = (0..<features.count).filter { universe[$0] }
        let res = HVG.select(means: uIdx.map { means[$0] }, dispersions: uIdx.map { disps[$0] },
                             flavor: cfg.flavor, nBins: cfg.nBins, nTop: cfg.nTopGenes)
        var hv = [Bool](repeating: false, count: features.count)
        var dnorm = [Double](repeating: .nan, count: features.count)
        for (i, g) in uIdx.enumerated() { hv[g] = res.highlyVariable[i]; dnorm[g] = res.dispersionsNorm[i] }

        let tStats = Date()
        // Kept genes: HVGs (or every filtered gene), plus perturbation targets and --keep-genes in the panel.
        var keep = cfg.nTopGenes == nil ? universe : hv
        var bySymbol: [String: [Int]] = [:]
        for (g, f) in features.enumerated() {
            bySymbol[f.id, default: []].append(g)
            if f.symbol != f.id { bySymbol[f.symbol, default: []].append(g) }
        }
        var targets = Set<String>()
        for i in keepCells { for g in cfg.syntax.genes(cellLabels[i]) { targets.insert(g) } }
        var targetsInPanel = 0
        for t in targets { if let gs = bySymbol[t] { targetsInPanel += 1; for g in gs { keep[g] = true } } }
        var unknownKeep: [String] = []
        for k in keepList { if let gs = bySymbol[k] { for g in gs { keep[g] = true } } else { unknownKeep.append(k) } }
        if !unknownKeep.isEmpty {
            warn("\(unknownKeep.count) genes of --keep-genes are not in \(fName): \(unknownKeep.prefix(5).joined(separator: ", "))\(unknownKeep.count > 5 ? ", ..." : "")")
        }
        let kept = (0..<features.count).filter { keep[$0] }
        if kept.isEmpty { throw PVError.badInput(file: fName, "no gene left to write") }

        // Outputs: all three written to temporaries, committed together at the end.
        try ensureDirectory(cfg.outDir)
        var gs = "gene_id\tsymbol\tmean\tdispersion\thighly_variable\tdispersion_norm\n"
        for g in kept {
            gs += "\(features[g].id)\t\(features[g].symbol)\t\(fmt(means[g]))\t\(fmt(disps[g]))\t\(hv[g] ? "True" : "False")\t\(fmt(dnorm[g]))\n"
        }
        var os = "barcode\tlabel\tn_counts\tn_genes\tsize_factor\n"
        for (r, i) in keepCells.enumerated() {
            os += "\(barcodes[i])\t\(cellLabels[i])\t\(totals[r])\t\(detected[r])\t\(sf[r])\n"
        }
        // The run id is a hash of what is written (not of the command line, which names --threads): one input and
        // one set of options give byte-identical files. expr.npy's header gets it once its data are written.
        var fingerprint = RunStamp.Fingerprint()
        fingerprint.add(gs); fingerprint.add(os)
        RunStamp.derive(from: fingerprint)  // a placeholder of the same length until expr.npy is hashed
        let outputs = OutputSet()
        let exprOut = try outputs.file(exprPath)
        let genesOut = try outputs.file((cfg.outDir as NSString).appendingPathComponent("genes.tsv"))
        let obsOut = try outputs.file((cfg.outDir as NSString).appendingPathComponent("obs.tsv"))
        let exprHeader = NPYHeader(dtype: .float32, shape: [x.rows, kept.count]).encoded(run: RunStamp.id)
        try exprOut.write(exprHeader)
        try writeExpr(x, sizeFactors: sf, kept: kept, to: exprOut, fingerprint: &fingerprint)
        RunStamp.derive(from: fingerprint)
        try exprOut.overwrite(at: 0, NPYHeader(dtype: .float32, shape: [x.rows, kept.count]).encoded(run: RunStamp.id))
        try genesOut.write(provenanceLines().joined(separator: "\n") + "\n" + gs)
        try obsOut.write(provenanceLines().joined(separator: "\n") + "\n" + os)
        try outputs.commit()
        let tEnd = Date()

        sum.cellsOut = x.rows; sum.genesKept = kept.count; sum.target = target; sum.nonzeros = full.nnz
        let el = tEnd.timeIntervalSince(t0)
        info("cells \(sum.cellsIn) in, \(sum.cellsOut) out; genes \(sum.genesIn) in, \(uIdx.count) after filters, \(kept.count) kept"
             + (cfg.nTopGenes != nil ? " (\(hv.filter { $0 }.count) highly variable, \(cfg.flavor.rawValue))" : "")
             + (labels != nil ? "; \(targets.count) target genes, \(targetsInPanel) in the panel" : ""))
        info(String(format: "%@ per-cell total %g; %d nonzeros; %.2fs (reading %.2fs, statistics %.2fs, output %.2fs)",
                    cfg.targetSum == nil ? "target sum = median" : "target sum", Double(target), full.nnz, el,
                    tRead.timeIntervalSince(t0), tStats.timeIntervalSince(tRead), tEnd.timeIntervalSince(tStats)))
        return sum
    }

    static func fmt(_ d: Double) -> String { d.isNaN ? "nan" : "\(d)" }

    /// Writes log1p(x / sf) of the kept columns of the counts `x` as a dense cells x genes float32 `.npy`. Into a
    /// file, both threads fill rows into small buffers of their own (about 1 MB, in cache) and write them at their
    /// place (`OutputFile.appendRegion`); into a stream, a block of rows is filled by both threads while the previous
    /// one is written on another thread. The header is written by the caller. `fingerprint` is fed the fingerprint
    /// of every row, in row order (each row is hashed by the thread that fills it, while it is in cache), either way.
    static func writeExpr(_ x: CSRMatrix, sizeFactors: [Float], kept: [Int], to out: OutputFile, fingerprint: inout RunStamp.Fingerprint) throws {
        var col = [Int32](repeating: -1, count: x.cols)
        for (j, g) in kept.enumerated() { col[g] = Int32(j) }
        let w = kept.count, rowBytes = w * 4
        let rows = DenseRows(x: x, sizeFactors: sizeFactors, col: col, width: w)
        // The fingerprint takes the row hashes a block of rows at a time on both paths (so that both give one run id).
        let block = max(1, min(x.rows, (32 << 20) / max(1, rowBytes)))
        if let region = try out.appendRegion(count: x.rows * rowBytes) {
            let hashes = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(1, x.rows))
            defer { hashes.deallocate() }
            let piece = max(1, (1 << 20) / max(1, rowBytes))
            let failure = Parallel.FirstError()
            Parallel.chunks(x.rows, minChunk: piece) { range in
                let buf = UnsafeMutablePointer<Float>.allocate(capacity: min(piece, range.count) * w)
                defer { buf.deallocate() }
                let table = CellLogTable(expm1: false)
                var r = range.lowerBound
                while r < range.upperBound && !failure.isSet {
                    let nr = min(piece, range.upperBound - r)
                    rows.fill(from: r, count: nr, into: buf, hashes: hashes.baseAddress! + r, table: table)
                    failure.record { try region.write(UnsafeRawBufferPointer(start: buf, count: nr * rowBytes), at: r * rowBytes) }
                    r += nr
                }
            }
            try failure.rethrow()
            for r0 in stride(from: 0, to: x.rows, by: block) {
                fingerprint.add(UnsafeRawBufferPointer(start: hashes.baseAddress! + r0, count: min(block, x.rows - r0) * 8))
            }
            try out.endRegion()
            return
        }
        let rowHashes = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: block)
        defer { rowHashes.deallocate() }
        let bufs = (0..<2).map { _ in UnsafeMutableBufferPointer<Float>.allocate(capacity: block * w) }
        defer { for b in bufs { b.deallocate() } }
        let writer = BlockWriter(out)
        defer { writer.finish() }
        var r0 = 0, which = 0
        while r0 < x.rows {
            let nr = min(block, x.rows - r0)
            let b = bufs[which]
            Parallel.chunks(nr, minChunk: 256) { range in
                rows.fill(from: r0 + range.lowerBound, count: range.count, into: b.baseAddress! + range.lowerBound * w,
                          hashes: rowHashes.baseAddress! + range.lowerBound, table: CellLogTable(expm1: false))
            }
            fingerprint.add(UnsafeRawBufferPointer(start: rowHashes.baseAddress!, count: nr * 8))
            // Returns once the other buffer is written, so it is free to be filled next.
            try writer.write(UnsafeRawBufferPointer(start: b.baseAddress!, count: nr * rowBytes))
            r0 += nr
            which ^= 1
        }
        try writer.waitIdle()
    }
}

/// Rows of the dense output: log1p(x / sf) of a cell's counts in the kept columns, zero elsewhere.
struct DenseRows {
    let x: CSRMatrix
    let sizeFactors: [Float]
    /// Output column of each gene, -1 if not kept.
    let col: [Int32]
    let width: Int

    /// Rows r0..<r0+count into `dst` (count x width floats) and each row's fingerprint into `hashes`, on the
    /// calling thread, with that thread's `table` (log1p of small counts, per cell).
    func fill(from r0: Int, count: Int, into dst: UnsafeMutablePointer<Float>, hashes: UnsafeMutablePointer<UInt64>,
              table: CellLogTable) {
        let w = width
        x.colIdx.withUnsafeBufferPointer { ci in
            x.values.withUnsafeBufferPointer { vs in
                col.withUnsafeBufferPointer { cp in
                    for i in 0..<count {
                        let row = dst + i * w
                        row.update(repeating: 0, count: w)
                        let r = r0 + i
                        table.startCell(sizeFactors[r])
                        for k in x.rowPtr[r]..<x.rowPtr[r + 1] {
                            let c = cp[Int(ci[k])]
                            if c >= 0 { row[Int(c)] = table.log1p(vs[k]) }
                        }
                        hashes[i] = RunStamp.Fingerprint.of(UnsafeRawBufferPointer(start: row, count: w * 4))
                    }
                }
            }
        }
    }
}

/// Writes one buffer at a time to an OutputFile on a second thread, so the next buffer can be filled meanwhile.
/// With one thread allowed (`Parallel.threads == 1`) it writes on the caller's thread.
final class BlockWriter: @unchecked Sendable {
    private let out: OutputFile
    private let cond = NSCondition()
    private var pending: UnsafeRawBufferPointer? = nil
    private var busy = false
    private var closed = false
    private var error: Error? = nil
    private var started = false
    private let threaded = Parallel.threads > 1

    init(_ out: OutputFile) { self.out = out }

    /// Hands `buf` to the writer (after the previous one is written); `buf` must stay valid until `waitIdle`.
    func write(_ buf: UnsafeRawBufferPointer) throws {
        if !threaded { try out.write(buf); return }
        try waitIdle()
        cond.lock()
        if !started {
            started = true
            let t = Thread { [self] in self.loop() }
            t.start()
        }
        pending = buf; busy = true
        cond.broadcast(); cond.unlock()
    }

    /// Waits until the last buffer handed over is written; rethrows its write error.
    func waitIdle() throws {
        cond.lock(); defer { cond.unlock() }
        while busy { cond.wait() }
        if let e = error { error = nil; throw e }
    }

    /// Stops the writing thread (after the buffer it is writing, if any).
    func finish() {
        cond.lock()
        while busy { cond.wait() }
        closed = true; cond.broadcast(); cond.unlock()
    }

    private func loop() {
        while true {
            cond.lock()
            while pending == nil && !closed { cond.wait() }
            if closed { cond.unlock(); return }
            let buf = pending!
            pending = nil
            cond.unlock()
            var err: Error? = nil
            do { try out.write(buf) } catch { err = error }
            cond.lock()
            if let err { error = err }
            busy = false
            cond.broadcast(); cond.unlock()
        }
    }
}
