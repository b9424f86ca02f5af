import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a simulation produced, for the summary on stderr and for tests.
public struct SimSummary {
    public var cells = 0, genes = 0, conditions = 0, nonzeros = 0
    public var medianTotal = 0.0, medianGenes = 0.0
    public var sparsity: Double { 1 - Double(nonzeros) / (Double(cells) * Double(genes)) }
    /// Mean over doubles of mean_g |E_AB − (E_A + E_B − E_ctrl)| and of mean_g |E_AB − E_ctrl| (true log-normalised means).
    public var doubleNonAdditive = 0.0, doubleEffect = 0.0
    /// Mean over singles of mean_g |E_A − E_ctrl|.
    public var singleEffect = 0.0
}

/// A 10x-style barcode (16 bases + `-1`) from a cell index: a bijective 32-bit mix, so barcodes are unique.
public func simulatedBarcode(_ i: Int) -> String {
    var x = (UInt32(truncatingIfNeeded: i) &+ 0x2545_F491) &* 0x9E37_79B1
    x ^= x >> 15; x = x &* 0x85EB_CA77; x ^= x >> 13; x = x &* 0xC2B2_AE3D; x ^= x >> 16
    let bases: [Character] = ["A", "C", "G", "T"]
    var s = ""
    for k in 0..<16 { s.append(bases[Int((x >> (2 * UInt32(15 - k))) & 3)]) }
    return s + "-1"
}

/// Draws a screen from `SimModel(p)` and writes `outDir`/{matrix.mtx.gz, barcodes.tsv, features.tsv, cells.tsv,
/// truth.npz, latents.npy}. latents.npy is float32 [cells, d_ν + d_ι]: row i is the cell of line i of cells.tsv
/// (matrix column i), columns 0..<d_ν its true z_ν, then d_ι columns of its true z_ι — what identifiability metrics
/// compare learned latents against. Cells are generated in blocks (the decoder as two sgemm calls per block) and each block's Matrix
/// Market text is compressed in parallel into its own gzip member, so memory stays at a few blocks whatever the
/// screen size. Every cell has its own RNG streams, so the output does not depend on the thread count.
public func simulateScreen(_ p: SimParams, outDir: String, gzipLevel: Int32 = 4) throws -> SimSummary {
    try p.requireMemory()
    let model = SimModel(p)
    let dN = model.dN, dI = model.dI, dZ = model.dZ, G = p.genes, H = p.hidden
    let counts = model.cellCounts()
    let C = model.conditions.count
    let N = counts.reduce(0, +)
    guard N > 0 else { throw PVError.usage("no cells to simulate") }

    // Cell order (shuffled, as in a real screen) and library sizes.
    var cellCond: [Int] = []
    for (c, n) in counts.enumerated() { cellCond += Array(repeating: c, count: n) }
    var orng = RNG(seed: p.seed, stream: 5)
    orng.shuffle(&cellCond)
    var lrng = RNG(seed: p.seed, stream: 6)
    let logMed = Foundation.log(p.medianLibrary)
    let library = (0..<N).map { _ in Foundation.exp(logMed + p.librarySD * Double(lrng.normal())) }
    let sortedLib = library.sorted()
    let S = N % 2 == 1 ? sortedLib[N / 2] : 0.5 * (sortedLib[N / 2 - 1] + sortedLib[N / 2])

    let mech = model.conditionTargets.map { model.mechanism($0) }

    // Outputs: all created first, committed together at the end.
    try ensureDirectory(outDir)
    // The files are a function of the parameters (whatever the thread count): so is the run id.
    RunStamp.derive(from: ["pv-simulate", pvVersion, "\(p)", "gzip \(gzipLevel)"])
    let outputs = OutputSet()
    let matrixOut = try outputs.file(outDir + "/matrix.mtx.gz")
    // True latents, streamed block by block behind a header that the known shape fixes up front.
    let latentsOut = try outputs.file(outDir + "/latents.npy")
    try latentsOut.write(NPYHeader(dtype: .float32, shape: [N, dZ]).encoded(run: RunStamp.id))
    let bodyPath = outDir + "/.matrix.mtx.gz.\(getpid()).body.tmp"
    guard let body = fopen(bodyPath, "w+b") else { throw PVError.io(file: bodyPath, "cannot create: \(String(cString: strerror(errno)))") }
    PendingOutputs.add(bodyPath)
    defer { fclose(body); unlink(bodyPath); PendingOutputs.remove(bodyPath) }

    let B = 2048, sub = 256
    var Z = [Float](repeating: 0, count: B * dZ)
    var Hh = [Float](repeating: 0, count: B * H)
    var LR = [Float](repeating: 0, count: B * G)       // log-rates, then log1p(S·π) per cell
    var OBS = [Float](repeating: 0, count: B * G)      // log1p(x·S/total) per cell
    var exprSum = [Double](repeating: 0, count: C * G), obsSum = [Double](repeating: 0, count: C * G)
    var totals = [Int](repeating: 0, count: N), ngenes = [Int](repeating: 0, count: N)
    var nnz = 0
    let prog = Progress("simulating", total: N, unit: "cells")
    var members = [[UInt8]](repeating: [], count: B / sub)
    var firstError: Error?
    let errLock = NSLock()

    var start = 0
    while start < N {
        let b = min(B, N - start)
        // Latents: z_ι ~ N(0, I); n ~ N(μ(u), sd²); z_ν = (I − Λ(u))⁻¹ (n + Λ_νι(u) z_ι).
        Z.withUnsafeMutableBufferPointer { zp in
            let zb = zp.baseAddress!
            Parallel.chunks(b, minChunk: 64) { r in
                var zn = [Float](repeating: 0, count: dN)
                for i in r {
                    let cell = start + i
                    var rng = RNG(seed: p.seed, stream: 0x1_0000_0000 &+ 2 &* UInt64(cell))
                    let m = mech[cellCond[cell]]
                    let row = zb + i * dZ
                    for k in 0..<dI { row[dN + k] = rng.normal() }
                    for j in 0..<dN {
                        var s = m.mu[j] + model.noiseSD[j] * rng.normal()
                        for k in 0..<dI { s += m.lni[j * dI + k] * row[dN + k] }
                        for k in 0..<j { s += m.lnn[j * dN + k] * zn[k] }
                        zn[j] = s
                    }
                    for j in 0..<dN { row[j] = zn[j] }
                }
            }
        }
        try Z.withUnsafeBytes { try latentsOut.write(UnsafeRawBufferPointer(rebasing: $0[0..<(b * dZ * 4)])) }
        // Decoder: h = tanh(z·W1 + b1); log-rate = h·W2 (+ gene base below).
        Z.withUnsafeBufferPointer { zp in model.w1.withUnsafeBufferPointer { w in Hh.withUnsafeMutableBufferPointer { hp in
            BLAS.gemm(m: b, n: H, k: dZ, a: zp.baseAddress!, lda: dZ, b: w.baseAddress!, ldb: H, c: hp.baseAddress!, ldc: H)
        } } }
        for i in 0..<b { for h in 0..<H { Hh[i * H + h] = Foundation.tanh(Hh[i * H + h] + model.b1[h]) } }
        Hh.withUnsafeBufferPointer { hp in model.w2.withUnsafeBufferPointer { w in LR.withUnsafeMutableBufferPointer { lp in
            BLAS.gemm(m: b, n: G, k: H, a: hp.baseAddress!, lda: H, b: w.baseAddress!, ldb: G, c: lp.baseAddress!, ldc: G)
        } } }
        // Counts, Matrix Market text and one gzip member per sub-block of cells, in parallel.
        let nsub = (b + sub - 1) / sub
        LR.withUnsafeMutableBufferPointer { lp in OBS.withUnsafeMutableBufferPointer { op in
            totals.withUnsafeMutableBufferPointer { tp in ngenes.withUnsafeMutableBufferPointer { gp in
            members.withUnsafeMutableBufferPointer { mp in
                let lb = lp.baseAddress!, ob = op.baseAddress!, tb = tp.baseAddress!, gb = gp.baseAddress!, mb = mp.baseAddress!
                Parallel.chunks(nsub) { range in
                    var cnt = [Int32](repeating: 0, count: G)
                    var text = TextBuffer(capacity: 1 << 20)
                    defer { text.free() }
                    for s in range {
                        text.count = 0
                        for i in (s * sub)..<min(b, (s + 1) * sub) {
                            let cell = start + i
                            var rng = RNG(seed: p.seed, stream: 0x1_0000_0001 &+ 2 &* UInt64(cell))
                            let row = lb + i * G
                            var mx = -Float.infinity
                            for g in 0..<G { row[g] += model.geneBase[g]; mx = max(mx, row[g]) }
                            var sum: Float = 0
                            for g in 0..<G { row[g] = Foundation.exp(row[g] - mx); sum += row[g] }
                            let inv = 1 / sum, L = library[cell]
                            var total = 0, ng = 0
                            for g in 0..<G {
                                let pi = row[g] * inv
                                let x = CountSampler.negativeBinomial(mu: L * Double(pi), theta: Double(model.theta[g]), &rng)
                                cnt[g] = Int32(x); total += x
                                if x > 0 { ng += 1 }
                                row[g] = Foundation.log1p(Float(S) * pi)
                            }
                            tb[cell] = total; gb[cell] = ng
                            let orow = ob + i * G
                            let scale = total > 0 ? Float(S) / Float(total) : 0
                            text.reserve(ng * 30)
                            for g in 0..<G {
                                let x = Int(cnt[g])
                                if x == 0 { orow[g] = 0; continue }
                                orow[g] = Foundation.log1p(Float(x) * scale)
                                text.append(g + 1); text.append(byte: 32)
                                text.append(cell + 1); text.append(byte: 32)
                                text.append(x); text.append(byte: 10)
                            }
                        }
                        do { mb[s] = try gzipMember(text.raw, level: gzipLevel) } catch {
                            errLock.lock(); if firstError == nil { firstError = error }; errLock.unlock()
                        }
                    }
                }
            } } }
        } }
        if let e = firstError { throw e }
        for s in 0..<nsub {
            let m = members[s]
            let ok = m.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, body) == $0.count }
            if !ok { throw PVError.io(file: matrixOut.path, "write failed: \(String(cString: strerror(errno)))") }
        }
        for i in 0..<b {
            let c = cellCond[start + i]
            nnz += ngenes[start + i]
            LR.withUnsafeBufferPointer { lp in OBS.withUnsafeBufferPointer { op in
                let e = lp.baseAddress! + i * G, o = op.baseAddress! + i * G
                for g in 0..<G { exprSum[c * G + g] += Double(e[g]); obsSum[c * G + g] += Double(o[g]) }
            } }
        }
        start += b
        prog.advance(b)
    }
    prog.finish()

    // The matrix: a gzip member with the header (the nonzero count is known only now), then the body members.
    let header = "%%MatrixMarket matrix coordinate integer general\n% simulated by pv-simulate \(pvVersion), seed \(p.seed)\n% run: \(RunStamp.id)\n\(G) \(N) \(nnz)\n"
    try matrixOut.write(try Array(header.utf8).withUnsafeBytes { try gzipMember($0, level: gzipLevel) })
    fflush(body)
    rewind(body)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, body) }
        if n == 0 { break }
        try chunk.withUnsafeBytes { try matrixOut.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
    if ferror(body) != 0 { throw PVError.io(file: bodyPath, "read failed") }

    let barcodes = (0..<N).map(simulatedBarcode)
    let bcOut = try outputs.file(outDir + "/barcodes.tsv")
    try bcOut.write(barcodes.joined(separator: "\n") + "\n")
    let featOut = try outputs.file(outDir + "/features.tsv")
    try featOut.write(model.geneNames.map { "\($0)\t\($0)\tGene Expression" }.joined(separator: "\n") + "\n")
    let cellsOut = try outputs.file(outDir + "/cells.tsv")
    try cellsOut.write("# run: \(RunStamp.id)\n")
    try cellsOut.write((0..<N).map { "\(barcodes[$0])\t\(model.conditions[cellCond[$0]])" }.joined(separator: "\n") + "\n")

    var sm = SimSummary()
    sm.cells = N; sm.genes = G; sm.conditions = C; sm.nonzeros = nnz
    let st = totals.sorted(), sg = ngenes.sorted()
    sm.medianTotal = N % 2 == 1 ? Double(st[N / 2]) : 0.5 * Double(st[N / 2 - 1] + st[N / 2])
    sm.medianGenes = N % 2 == 1 ? Double(sg[N / 2]) : 0.5 * Double(sg[N / 2 - 1] + sg[N / 2])
    let npz = try simulationTruth(model, counts: counts, exprSum: exprSum, obsSum: obsSum, targetSum: S, summary: &sm)
    let truthOut = try outputs.file(outDir + "/truth.npz")
    try truthOut.write(try npz.zipBytes(path: truthOut.path))

    try outputs.commit()
    return sm
}
