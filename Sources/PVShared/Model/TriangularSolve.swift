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
        for r in 0..<rows {
            let cr = c + r * ldc, zr = z + r * ldz, L = lnn + uIdx[r] * nL
            for i in 0..<d {
                var s = cr[i]
                let Li = L + i * (i - 1) / 2
                for j in 0..<i { s += Li[j] * zr[j] }
                zr[i] = s
            }
        }
    }

    /// Given dz, writes dc = (I − Λ)⁻ᵀ dz (back substitution) and adds dΛ[i][j] += dc_i·z_j into `dlnn`.
    public static func backward(_ z: UnsafePointer<Float>, ldz: Int, _ dz: UnsafePointer<Float>, lddz: Int,
                                _ dc: UnsafeMutablePointer<Float>, lddc: Int, rows: Int, d: Int,
                                lnn: UnsafePointer<Float>, dlnn: UnsafeMutablePointer<Float>, uIdx: UnsafePointer<Int>) {
        let nL = d * (d - 1) / 2
        for r in 0..<rows {
            let zr = z + r * ldz, dzr = dz + r * lddz, dcr = dc + r * lddc
            let L = lnn + uIdx[r] * nL, dL = dlnn + uIdx[r] * nL
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
}
