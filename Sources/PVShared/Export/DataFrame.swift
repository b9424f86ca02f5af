import Foundation

/// One column of an AnnData dataframe (obs or var), typed as pandas' `read_csv` types the same TSV column.
public enum FrameColumn: Equatable {
    case strings([String])
    case floats([Double])
    case ints([Int])
    case bools([Bool])

    public var count: Int {
        switch self {
        case .strings(let v): return v.count
        case .floats(let v): return v.count
        case .ints(let v): return v.count
        case .bools(let v): return v.count
        }
    }

    /// Values pandas reads as missing in a numeric column (its default `na_values`, the common ones).
    static let missing: Set<String> = ["", "nan", "NaN", "NA", "N/A", "NULL", "null", "None", "<NA>", "-nan", "-NaN"]

    /// The type pandas would give text read from a TSV: integers, else numbers (missing values as NaN), else
    /// True/False, else strings. `text: true` keeps strings whatever they look like (labels, conditions, ids).
    public static func inferred(_ values: [String], text: Bool = false) -> FrameColumn {
        if !text && !values.isEmpty {
            var ints: [Int] = []
            ints.reserveCapacity(values.count)
            for v in values { guard let i = Int(v) else { break }; ints.append(i) }
            if ints.count == values.count { return .ints(ints) }
            var floats: [Double] = []
            floats.reserveCapacity(values.count)
            for v in values {
                if missing.contains(v) { floats.append(.nan) } else if let d = Double(v) { floats.append(d) } else { break }
            }
            if floats.count == values.count { return .floats(floats) }
            let truth: [String: Bool] = ["True": true, "TRUE": true, "true": true, "False": false, "FALSE": false, "false": false]
            let bools = values.compactMap { truth[$0] }
            if bools.count == values.count { return .bools(bools) }
        }
        return .strings(values)
    }

    /// The rows `rows` of this column, in that order.
    public func subset(_ rows: [Int]) -> FrameColumn {
        switch self {
        case .strings(let v): return .strings(rows.map { v[$0] })
        case .floats(let v): return .floats(rows.map { v[$0] })
        case .ints(let v): return .ints(rows.map { v[$0] })
        case .bools(let v): return .bools(rows.map { v[$0] })
        }
    }
}

/// A dataframe as AnnData stores obs and var: a string index (obs or var names) and named, typed columns.
public struct DataFrame {
    public var indexName: String
    public var index: [String]
    public var columns: [(name: String, values: FrameColumn)] = []

    public init(indexName: String, index: [String], columns: [(name: String, values: FrameColumn)] = []) {
        self.indexName = indexName; self.index = index; self.columns = columns
    }

    /// Adds a column, or replaces the one of that name in place.
    public mutating func set(_ name: String, _ values: FrameColumn) {
        precondition(values.count == index.count, "column \(name) has \(values.count) values for \(index.count) rows")
        if let i = columns.firstIndex(where: { $0.name == name }) { columns[i].values = values } else { columns.append((name, values)) }
    }

    /// A TSV table as a dataframe: `indexColumn` becomes the index, every other column is typed as pandas would
    /// type it, except the `text` columns, which stay strings.
    public init(table: TSVTable, indexColumn: String, text: Set<String> = []) throws {
        let ic = try table.column(indexColumn)
        indexName = indexColumn
        index = table.rows.map { $0[ic] }
        for (c, name) in table.header.enumerated() where c != ic {
            columns.append((name, FrameColumn.inferred(table.rows.map { $0[c] }, text: text.contains(name))))
        }
    }
}
