import Foundation
import PVShared

extension TestSupport {
    /// Writes into folder `dst` the cells of the prediction in folder `src` whose condition passes `keep`: pred.npy
    /// holds only those rows and pred.tsv lists them renumbered from 0 (pv-score and pv-export refuse a pred.tsv that
    /// does not list every row of pred.npy). means.npy is not copied, so readers fall back to the cells' means.
    static func writePredictionSubset(from src: String, to dst: String, keep: (String) -> Bool) throws {
        let t = try TSVTable(path: src + "/pred.tsv")
        let rc = try t.column("row"), cc = try t.column("condition")
        let (_, cols, values) = try NPYArray(path: src + "/pred.npy").matrix()
        var sub = TSVTable(header: t.header)
        var kept: [Float] = []
        for r in t.rows where keep(r[cc]) {
            guard let row = Int(r[rc]) else { continue }
            var out = r
            out[rc] = String(sub.rows.count)
            sub.rows.append(out)
            kept.append(contentsOf: values[(row * cols)..<((row + 1) * cols)])
        }
        try FileManager.default.createDirectory(atPath: dst, withIntermediateDirectories: true)
        try writeNPY(dst + "/pred.npy", kept, shape: [sub.rows.count, cols])
        try sub.write(dst + "/pred.tsv")
    }
}
