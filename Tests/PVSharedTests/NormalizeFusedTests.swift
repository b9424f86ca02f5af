import Foundation
import XCTest
import PVShared

/// The fused statistics pass (log1p on the fly from per-cell tables) gives the same bits as normalising in place and
/// then taking the statistics, which is what the scanpy comparisons in NormalizeTests check.
final class NormalizeFusedTests: XCTestCase {
    /// A random cells x genes matrix with small integer counts, large ones (past the table), fractions, an empty cell.
    func randomCounts(rows: Int, cols: Int, seed: UInt64) -> CSRMatrix {
        var rng = RNG(seed: seed)
        var ptr = [0], ci: [Int32] = [], vs: [Float] = []
        for r in 0..<rows {
            if r != 7 {
                for g in 0..<cols where rng.next() % 3 == 0 {
                    let u = rng.next() % 100
                    let v: Float = u < 80 ? Float(1 + rng.next() % 12) : u < 90 ? Float(200 + rng.next() % 5000) : Float(rng.next() % 1000) / 7
                    ci.append(Int32(g)); vs.append(v)
                }
            }
            ptr.append(ci.count)
        }
        return CSRMatrix(rows: rows, cols: cols, rowPtr: ptr, colIdx: ci, values: vs)
    }

    func testFusedMeanVarEqualsNormaliseThenMeanVarBitForBit() {
        for (rows, seed) in [(3, UInt64(1)), (700, 2), (5000, 3)] {
            let m = randomCounts(rows: rows, cols: 40, seed: seed)
            let (totals, _) = Normalization.cellTotals(m)
            let sf = Normalization.sizeFactors(totals: totals, target: Stats.median(totals))
            var x = m
            Normalization.normalizeLog1p(&x, sizeFactors: sf)
            for expm1 in [true, false] {
                let want = expm1 ? Normalization.geneMeanVar(x, transform: { Foundation.expm1($0) })
                                 : Normalization.geneMeanVar(x, transform: { $0 })
                let got = Normalization.logNormMeanVar(m, sizeFactors: sf, expm1Transform: expm1)
                XCTAssertEqual(got.mean.map(\.bitPattern), want.mean.map(\.bitPattern), "means, \(rows) rows, expm1 \(expm1)")
                XCTAssertEqual(got.variance.map(\.bitPattern), want.variance.map(\.bitPattern), "variances, \(rows) rows")
            }
            XCTAssertEqual(m.values, randomCounts(rows: rows, cols: 40, seed: seed).values, "counts left as they were")
        }
    }

    func testCellLogTableEqualsLibm() {
        let t = CellLogTable(expm1: true)
        let u = CellLogTable(expm1: false)
        for sf: Float in [0, 0.37, 1, 2.5, 1e-3, 731] {
            t.startCell(sf); u.startCell(sf)
            let s = sf == 0 ? 1 : sf
            for x: Float in [0, 1, 2, 3, 1, 255, 256, 257, 0.5, 2.25, 1e6, 3, 2, 0] {
                let y = Foundation.log1p(x / s)
                XCTAssertEqual(t.log1p(x).bitPattern, y.bitPattern, "log1p(\(x) / \(sf))")
                XCTAssertEqual(t.transformed(x).bitPattern, Foundation.expm1(y).bitPattern, "expm1(log1p(\(x) / \(sf)))")
                XCTAssertEqual(u.transformed(x).bitPattern, y.bitPattern)
            }
        }
    }
}
