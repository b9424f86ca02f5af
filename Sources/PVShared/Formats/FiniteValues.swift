import Foundation

/// Non-finite input (NaN, ±inf) caught where it is read, so that a tool fails naming the file and position instead
/// of carrying NaN through to an output that looks valid (exit 65, one line).
public enum FiniteValues {
    /// Throws naming `file`, the row (and `label` of it, a barcode) and the column of the first non-finite value
    /// among `rows` of the row-major matrix `x` with `cols` columns. `what` says what the rows are for.
    public static func require(_ x: UnsafeBufferPointer<Float>, cols: Int, rows: [Int], file: String, what: String,
                               label: (Int) -> String? = { _ in nil }) throws {
        guard let base = x.baseAddress, cols > 0 else { return }
        for r in rows {
            let p = base + r * cols
            for g in 0..<cols where !p[g].isFinite {
                let name = label(r).map { " (\($0))" } ?? ""
                throw PVError.badInput(file: file, "row \(r)\(name), column \(g): value is \(p[g]); \(what) must be finite")
            }
        }
    }

    /// "[i]" of a vector, "[row, column]" of a matrix, the flat index otherwise: a position in a tensor of `shape`.
    public static func position(_ index: Int, shape: [Int]) -> String {
        if shape.count == 2, shape[1] > 0 { return "[\(index / shape[1]), \(index % shape[1])]" }
        return "[\(index)]"
    }
}
