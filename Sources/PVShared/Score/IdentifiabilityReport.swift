import Foundation

/// pv-score's identifiability mode: learned latents (pv-predict --latents) against a simulation's true ones
/// (pv-simulate's latents.npy), cells matched by barcode. Reports the paper's two numbers: MCC of the learned
/// response block z_ν against the true z_ν (after one-to-one matching) and R² of a linear regression of the true
/// background z_ι on the learned μ_ι (`Identifiability`).
public struct IdentifiabilityReport {
    /// Display name of the learned latents (the file given).
    public var name: String
    /// Cells present in both files (every learned cell; the truth may have more).
    public var cells: Int
    public var trueResp: Int, trueInv: Int, learnedResp: Int, learnedInv: Int
    /// Mean |corr| of matched (true, learned) response components.
    public var mcc: Double
    /// Matched pairs (true component, learned component), 0-based, sorted by true component, with their |corr|.
    public var pairs: [(truth: Int, learned: Int, absCorr: Double)]
    /// R² of true z_ι on learned μ_ι (with intercept), averaged over the true components.
    public var r2Inv: Double

    /// Learned latents as pv-predict --latents writes them: columns barcode, condition, set, mu_inv_1.., z_resp_1..
    public struct Learned {
        public var name: String
        public var barcodes: [String]
        /// [cells, dI] and [cells, dN], row-major.
        public var muInv: [Float], zResp: [Float]
        public var dI: Int, dN: Int

        public init(name: String, barcodes: [String], muInv: [Float], dI: Int, zResp: [Float], dN: Int) {
            self.name = name; self.barcodes = barcodes; self.muInv = muInv; self.dI = dI; self.zResp = zResp; self.dN = dN
        }

        /// Reads pv-predict's latents TSV (plain or gzip; `-` for stdin).
        public init(path: String) throws {
            let t = try TSVTable(path: path)
            let bc = try t.column("barcode")
            let inv = t.header.indices.filter { t.header[$0].hasPrefix("mu_inv_") }
            let resp = t.header.indices.filter { t.header[$0].hasPrefix("z_resp_") }
            guard !inv.isEmpty || !resp.isEmpty else {
                throw PVError.badInput(file: t.name, line: nil, "no mu_inv_* or z_resp_* columns: not pv-predict --latents output")
            }
            guard !t.rows.isEmpty else { throw PVError.badInput(file: t.name, "no cells") }
            var muInv = [Float](), zResp = [Float]()
            muInv.reserveCapacity(t.rows.count * inv.count); zResp.reserveCapacity(t.rows.count * resp.count)
            var seen = Set<String>()
            for (k, row) in t.rows.enumerated() {
                guard seen.insert(row[bc]).inserted else {
                    throw PVError.badInput(file: t.name, line: t.lineNumbers[k], "duplicate barcode \(row[bc])")
                }
                for (cols, isInv) in [(inv, true), (resp, false)] {
                    for j in cols {
                        guard let v = Float(row[j]), v.isFinite else {
                            throw PVError.badInput(file: t.name, line: t.lineNumbers[k], "column \(t.header[j]): expected a finite number, got '\(row[j])'")
                        }
                        if isInv { muInv.append(v) } else { zResp.append(v) }
                    }
                }
            }
            self.init(name: t.name, barcodes: t.rows.map { $0[bc] }, muInv: muInv, dI: inv.count, zResp: zResp, dN: resp.count)
        }
    }

    /// True latents: row i = cell `barcodes[i]`, columns z_ν (dN) then z_ι, as pv-simulate's latents.npy.
    public struct Truth {
        public var barcodes: [String]
        public var values: [Float]
        public var dN: Int, dI: Int

        public init(barcodes: [String], values: [Float], dN: Int, dI: Int) {
            self.barcodes = barcodes; self.values = values; self.dN = dN; self.dI = dI
        }

        /// Reads latents.npy, its barcodes (first column of each line not starting with '#': barcodes.tsv or
        /// cells.tsv of the same pv-simulate run) and the number of response components: `resp`, or else the length of
        /// `noise_sd` in truth.npz beside latents.npy.
        public init(latents: String, barcodes bcPath: String, resp: Int?) throws {
            let npy = try NPYArray(path: latents)
            guard npy.shape.count == 2 else {
                throw PVError.badInput(file: npy.name, "expected a 2-d array [cells, d_nu + d_iota], got shape \(npy.shape)")
            }
            let n = npy.shape[0], d = npy.shape[1]
            let values = Array(try npy.floats())
            let r = try LineReader(path: bcPath)
            var bcs: [String] = []
            while let line = try r.nextString() {
                if line.hasPrefix("#") || line.isEmpty { continue }
                bcs.append(String(line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)[0]))
            }
            guard bcs.count == n else {
                throw PVError.badInput(file: r.name, "\(bcs.count) cells, but \(displayName(latents)) has \(n) rows: not the same pv-simulate run?")
            }
            let dN: Int
            if let resp {
                dN = resp
            } else {
                let truthPath = (latents as NSString).deletingLastPathComponent.isEmpty ? "truth.npz"
                    : (latents as NSString).deletingLastPathComponent + "/truth.npz"
                guard FileManager.default.fileExists(atPath: truthPath) else {
                    throw PVError.missingInput(file: truthPath, "no truth.npz beside the true latents to tell z_nu's size; give --true-resp N")
                }
                dN = try NPZ(path: truthPath).array("noise_sd", file: truthPath).count
            }
            guard dN >= 1 && dN < d else {
                throw PVError.badInput(file: npy.name, "\(d) columns cannot hold \(dN) response components and at least one background component")
            }
            self.init(barcodes: bcs, values: values, dN: dN, dI: d - dN)
        }
    }

    /// Matches every learned cell to its true row by barcode and computes MCC (z_ν) and R² (z_ι on μ_ι).
    /// A learned cell missing from the truth is an error (the files are from different screens).
    public init(learned: Learned, truth: Truth) throws {
        var rowOf: [String: Int] = [:]
        rowOf.reserveCapacity(truth.barcodes.count)
        for (i, b) in truth.barcodes.enumerated() { rowOf[b] = i }
        let n = learned.barcodes.count, d = truth.dN + truth.dI
        var tN = [Float](repeating: 0, count: n * truth.dN), tI = [Float](repeating: 0, count: n * truth.dI)
        for (k, b) in learned.barcodes.enumerated() {
            guard let i = rowOf[b] else {
                throw PVError.badInput(file: learned.name, "cell \(b) is not among the true latents' barcodes: latents of another screen?")
            }
            for j in 0..<truth.dN { tN[k * truth.dN + j] = truth.values[i * d + j] }
            for j in 0..<truth.dI { tI[k * truth.dI + j] = truth.values[i * d + truth.dN + j] }
        }
        guard n >= 3 else { throw PVError.badInput(file: learned.name, "\(n) cells: need at least 3 for correlations") }
        name = learned.name; cells = n
        trueResp = truth.dN; trueInv = truth.dI; learnedResp = learned.dN; learnedInv = learned.dI
        if learned.dN > 0 {
            let m = Identifiability.mcc(truth: tN, learned: learned.zResp, rows: n)
            let c = Identifiability.absCorrelations(tN, truth.dN, learned.zResp, learned.dN, n)
            mcc = m.mcc
            pairs = m.pairs.map { ($0.0, $0.1, c[$0.0 * learned.dN + $0.1]) }
        } else {
            mcc = 0; pairs = []
        }
        r2Inv = learned.dI > 0 ? Identifiability.linearR2(target: tI, predictors: learned.muInv, rows: n) : 0
    }

    /// The table pv-score prints: a header and one line.
    public var summary: String {
        let h = ["latents", "cells", "d_resp", "d_inv", "mcc_resp", "r2_inv"]
        let v = [name, String(cells), "\(learnedResp)/\(trueResp)", "\(learnedInv)/\(trueInv)",
                 String(format: "%.4f", mcc), String(format: "%.4f", r2Inv)]
        let w = zip(h, v).map { max($0.count, $1.count) }
        func line(_ f: [String]) -> String {
            zip(f, w).enumerated().map { $0 == 0 ? $1.0.padding(toLength: $1.1, withPad: " ", startingAt: 0)
                                                  : String(repeating: " ", count: $1.1 - $1.0.count) + $1.0 }
                .joined(separator: "  ")
        }
        return line(h) + "\n" + line(v) + "\n" + "(mcc_resp: learned z_resp vs true z_nu after one-to-one matching; "
            + "r2_inv: linear regression of true z_iota on learned mu_inv; d: learned/true components)\n"
    }

    /// Everything as JSON (the numbers, sizes and the matching).
    public func json() throws -> Data {
        var doc: [String: Any] = [
            "tool": ToolContext.name, "version": pvVersion, "command": ToolContext.commandLine,
            "latents": name, "n_cells": cells,
            "true_resp": trueResp, "true_inv": trueInv, "learned_resp": learnedResp, "learned_inv": learnedInv,
            "mcc_resp": mcc.isFinite ? mcc : NSNull(), "r2_inv": r2Inv.isFinite ? r2Inv : NSNull(),
            "pairs": pairs.map { ["true": $0.truth, "learned": $0.learned, "abs_corr": $0.absCorr] },
        ]
        if let run = RunStamp.current { doc["run"] = run }
        do { return try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted]) } catch {
            throw PVError.io(file: "json", "cannot encode the identifiability scores: \(error)")
        }
    }
}
