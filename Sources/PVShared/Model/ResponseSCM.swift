import Foundation

/// Rows of a batch grouped by label slot (a counting sort into buffers allocated once), so that work which
/// accumulates into per-label gradients can run label group by label group on separate threads.
final class LabelGroups {
    /// Rows of label u are `rows[start[u] ..< start[u+1]]`, in increasing row order.
    let start, rows: IntBuffer
    private(set) var labels = 0

    init(maxRows: Int, maxLabels: Int) { start = IntBuffer(maxLabels + 1); rows = IntBuffer(maxRows) }

    func build(_ uIdx: UnsafePointer<Int>, rows n: Int, labels U: Int) {
        labels = U
        let s = start.p
        s.update(repeating: 0, count: U + 1)
        for r in 0..<n { s[uIdx[r] + 1] += 1 }
        for u in 0..<U { s[u + 1] += s[u] }
        // Fill using start[u] as a cursor, then shift the cursors back.
        for r in 0..<n { let u = uIdx[r]; rows.p[s[u]] = r; s[u] += 1 }
        var i = U
        while i > 0 { s[i] = s[i - 1]; i -= 1 }
        s[0] = 0
    }

    /// Calls `body(labelRange)` on `Parallel.threads` consecutive label ranges holding about equal numbers of rows.
    /// Each label is handled by exactly one call, its rows in row order, so per-label sums do not depend on the split.
    func split(_ body: (Range<Int>) -> Void) {
        let U = labels, n = start.p[U], T = max(1, min(Parallel.threads, U))
        if T == 1 { body(0..<U); return }
        let s = start.p
        Parallel.parts(T) { t in
            // Part t takes the labels whose first row falls in [t·n/T, (t+1)·n/T).
            func cut(_ t: Int) -> Int {
                if t >= T { return U }
                let target = t * n / T
                var u = 0
                while u < U && s[u] < target { u += 1 }
                return t == 0 ? 0 : u
            }
            let lo = cut(t), hi = cut(t + 1)
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// The response block's linear SCM (DESIGN.md §5): c = ñ + μ_ν(u) + Λ_νι(u) z_ι, then z_ν = (I − Λ_νν(u))⁻¹ c, and
/// its backward pass. The Λ products are 20×85 per row, too small for BLAS calls (whose per-call cost dominated); rows
/// run on both threads in the forward pass, and label groups in the backward pass (which sums into each label's
/// gradients), so results are the same for every thread count.
enum ResponseSCM {
    /// Forward pass for `rows` rows; `z` rows are [z_ν, z_ι] with stride ldz (z_ι filled, z_ν written).
    static func forward(rows: Int, dN: Int, dI: Int, nTilde: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                        z: UnsafeMutablePointer<Float>, ldz: Int, uIdx: UnsafePointer<Int>, unets: UNetworks) {
        let nL = dN * (dN - 1) / 2
        let lni = unets.lni.p, lnn = unets.lnn.p, mu = unets.mu.p
        Parallel.chunks(rows, minChunk: 16) { range in
            for r in range {
                let u = uIdx[r]
                let cr = c + r * dN, nr = nTilde + r * dN, m = mu + u * dN, L = lni + u * dN * dI, zi = z + r * ldz + dN
                for i in 0..<dN {
                    let Li = L + i * dI
                    var s: Float = 0
                    for j in 0..<dI { s += Li[j] * zi[j] }
                    cr[i] = (nr[i] + m[i]) + s
                }
                TriangularSolve.forwardRow(cr, z + r * ldz, d: dN, lnn: lnn + u * nL)
            }
        }
    }

    /// Given dz (rows [dz_ν, dz_ι], stride ldz; dz_ι is added to), writes dc and adds the gradients of Λ_νν, Λ_νι and
    /// μ_ν into the u-networks' output gradients (zeroed by the caller).
    static func backward(groups: LabelGroups, dN: Int, dI: Int, z: UnsafePointer<Float>, dz: UnsafeMutablePointer<Float>,
                         ldz: Int, dc: UnsafeMutablePointer<Float>, unets: UNetworks) {
        let nL = dN * (dN - 1) / 2
        let lni = unets.lni.p, lnn = unets.lnn.p, dlni = unets.dlni.p, dlnn = unets.dlnn.p, dmu = unets.dmu.p
        let start = groups.start.p, rows = groups.rows.p
        groups.split { labels in
            for u in labels {
                let L = lni + u * dN * dI, dL = dlni + u * dN * dI, dm = dmu + u * dN
                for k in start[u]..<start[u + 1] {
                    let r = rows[k]
                    let zr = z + r * ldz, dzr = dz + r * ldz, dcr = dc + r * dN
                    TriangularSolve.backwardRow(zr, dzr, dcr, d: dN, lnn: lnn + u * nL, dlnn: dlnn + u * nL)
                    let zi = zr + dN, dzi = dzr + dN
                    for i in 0..<dN {
                        let g = dcr[i]
                        dm[i] += g
                        // dΛ_νι += dc ⊗ z_ι ; dz_ι += Λ_νιᵀ dc
                        let Li = L + i * dI, dLi = dL + i * dI
                        for j in 0..<dI { dLi[j] += g * zi[j]; dzi[j] += Li[j] * g }
                    }
                }
            }
        }
    }
}
