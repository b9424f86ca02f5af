import Foundation

/// A sparse float32 matrix in compressed sparse row form (for counts: rows = cells, columns = genes).
/// Row `r` holds `colIdx[rowPtr[r]..<rowPtr[r+1]]` with values `values[...]`, columns strictly ascending.
public struct CSRMatrix {
    public var rows: Int
    public var cols: Int
    public var rowPtr: [Int]
    public var colIdx: [Int32]
    public var values: [Float]

    public var nnz: Int { colIdx.count }

    public init(rows: Int, cols: Int, rowPtr: [Int], colIdx: [Int32], values: [Float]) {
        precondition(rowPtr.count == rows + 1 && colIdx.count == values.count && rowPtr.last == colIdx.count)
        self.rows = rows; self.cols = cols; self.rowPtr = rowPtr; self.colIdx = colIdx; self.values = values
    }

    /// The dense matrix (for tests and small inputs).
    public func dense() -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows { for k in rowPtr[r]..<rowPtr[r + 1] { out[r * cols + Int(colIdx[k])] = values[k] } }
        return out
    }

    /// The rows `keep` (in that order), as a new matrix.
    public func selectingRows(_ keep: [Int]) -> CSRMatrix {
        var ptr = [Int](repeating: 0, count: keep.count + 1)
        for (i, r) in keep.enumerated() { ptr[i + 1] = ptr[i] + rowPtr[r + 1] - rowPtr[r] }
        let n = ptr[keep.count]
        var ci = [Int32](repeating: 0, count: n)
        var vs = [Float](repeating: 0, count: n)
        ci.withUnsafeMutableBufferPointer { cp in
            vs.withUnsafeMutableBufferPointer { vp in
                colIdx.withUnsafeBufferPointer { sc in
                    values.withUnsafeBufferPointer { sv in
                        let cpp = cp, vpp = vp
                        Parallel.chunks(keep.count, minChunk: 1024) { range in
                            for i in range {
                                let r = keep[i], len = rowPtr[r + 1] - rowPtr[r]
                                if len == 0 { continue }
                                (cpp.baseAddress! + ptr[i]).update(from: sc.baseAddress! + rowPtr[r], count: len)
                                (vpp.baseAddress! + ptr[i]).update(from: sv.baseAddress! + rowPtr[r], count: len)
                            }
                        }
                    }
                }
            }
        }
        return CSRMatrix(rows: keep.count, cols: cols, rowPtr: ptr, colIdx: ci, values: vs)
    }

    /// The columns where `keep` is true, renumbered in order, as a new matrix.
    public func selectingColumns(_ keep: [Bool]) -> CSRMatrix {
        var newIndex = [Int32](repeating: -1, count: cols)
        var n: Int32 = 0
        for c in 0..<cols where keep[c] { newIndex[c] = n; n += 1 }
        var ptr = [Int](repeating: 0, count: rows + 1)
        var ci = [Int32](), vs = [Float]()
        ci.reserveCapacity(nnz); vs.reserveCapacity(nnz)
        for r in 0..<rows {
            for k in rowPtr[r]..<rowPtr[r + 1] {
                let j = newIndex[Int(colIdx[k])]
                if j >= 0 { ci.append(j); vs.append(values[k]) }
            }
            ptr[r + 1] = ci.count
        }
        return CSRMatrix(rows: rows, cols: Int(n), rowPtr: ptr, colIdx: ci, values: vs)
    }

    /// Removes stored zeros in place.
    public mutating func dropZeros() {
        var w = 0
        var newPtr = [Int](repeating: 0, count: rows + 1)
        for r in 0..<rows {
            for k in rowPtr[r]..<rowPtr[r + 1] where values[k] != 0 {
                colIdx[w] = colIdx[k]; values[w] = values[k]; w += 1
            }
            newPtr[r + 1] = w
        }
        colIdx.removeLast(colIdx.count - w)
        values.removeLast(values.count - w)
        rowPtr = newPtr
    }
}
