import Foundation

/// z = (I − Λ)⁻¹ c for a strictly lower-triangular Λ per row (the linear SCM of the response block), by forward
/// substitution. Λ comes from `lnn` [U, d(d−1)/2], row-major over the strict lower triangle ((1,0), (2,0), (2,1), ...),
/// and row r uses entry `uIdx[r]`.
public enum TriangularSolve {
    /// Position of Λ[i][j] (i > j) in the packed strict lower triangle.
    @inline(__always) public static func packed(_ i: Int, _ j: Int) -> Int { i * (i - 1) / 2 + j }

    public static func forward(_ c: UnsafePointer<Float>, ldc: Int, _ z: UnsafeMutablePointer<Float>, ldz: Int,
                               rows: Int, d: Int, lnn: UnsafePointer<Float>, uIdx: UnsafePointer<Int>) {
        let nL = d * (d - 1) / 2
        for r in 0..<rows { forwardRow(c + r * ldc, z + r * ldz, d: d, lnn: lnn + uIdx[r] * nL) }
    }

    /// One row: z = (I − L)⁻¹ c with L the packed strict lower triangle at `L`.
    @inline(__always)
    static func forwardRow(_ cr: UnsafePointer<Float>, _ zr: UnsafeMutablePointer<Float>, d: Int, lnn L: UnsafePointer<Float>) {
        for i in 0..<d {
            var s = cr[i]
            let Li = L + i * (i - 1) / 2
            for j in 0..<i { s += Li[j] * zr[j] }
            zr[i] = s
        }
    }

    /// Given dz, writes dc = (I − Λ)⁻ᵀ dz (back substitution) and adds dΛ[i][j] += dc_i·z_j into `dlnn`.
    public static func backward(_ z: UnsafePointer<Float>, ldz: Int, _ dz: UnsafePointer<Float>, lddz: Int,
                                _ dc: UnsafeMutablePointer<Float>, lddc: Int, rows: Int, d: Int,
                                lnn: UnsafePointer<Float>, dlnn: UnsafeMutablePointer<Float>, uIdx: UnsafePointer<Int>) {
        let nL = d * (d - 1) / 2
        for r in 0..<rows {
            backwardRow(z + r * ldz, dz + r * lddz, dc + r * lddc, d: d, lnn: lnn + uIdx[r] * nL, dlnn: dlnn + uIdx[r] * nL)
        }
    }

    /// One row: dc = (I − L)⁻ᵀ dz and dL[i][j] += dc_i·z_j.
    @inline(__always)
    static func backwardRow(_ zr: UnsafePointer<Float>, _ dzr: UnsafePointer<Float>, _ dcr: UnsafeMutablePointer<Float>,
                            d: Int, lnn L: UnsafePointer<Float>, dlnn dL: UnsafeMutablePointer<Float>) {
        var i = d - 1
        while i >= 0 {
            var s = dzr[i]
            var k = i + 1
            while k < d { s += L[packed(k, i)] * dcr[k]; k += 1 }
            dcr[i] = s
            i -= 1
        }
        for i in 1..<max(d, 1) {
            let dLi = dL + i * (i - 1) / 2
            let g = dcr[i]
            for j in 0..<i { dLi[j] += g * zr[j] }
        }
    }
}
