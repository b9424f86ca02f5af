import Foundation

/// An AnnData object written as a zarr v2 store, in the layout `anndata.write_zarr` uses (anndata's on-disk
/// specification): the root group marked `anndata`; `X` a dense float32 array in chunks of whole rows; `obs` and `var`
/// dataframe groups with their `_index`, `column-order` and encoding attributes (without them anndata silently drops
/// the index); strings as `string-array` (vlen-utf8), numbers and booleans as `array`. `anndata.read_zarr` (0.10-0.12,
/// zarr-python 2 and 3) opens it; elements AnnData leaves empty (layers, obsm, uns, ...) are simply absent.
public struct AnnDataZarr {
    /// Compression of every array (X is most of the store).
    public var compressor: ZarrCompressor = .zlib(level: 1)
    /// Rows per X chunk; nil: about 4 MiB of float32 per chunk.
    public var chunkRows: Int? = nil

    public init(compressor: ZarrCompressor = .zlib(level: 1), chunkRows: Int? = nil) {
        self.compressor = compressor; self.chunkRows = chunkRows
    }

    /// Writes the store for `path` into a temporary folder beside it and returns that folder: `commit()` puts it in
    /// place (replacing an earlier zarr store there), so that several outputs can be committed together. X has
    /// `rows` x `cols` values, row `i` written into its buffer by `fill`; obs has one row per X row, var one per column.
    public func write(_ path: String, rows: Int, cols: Int, obs: DataFrame, `var` genes: DataFrame,
                      fill: (Int, UnsafeMutablePointer<Float>) -> Void) throws -> OutputFolder {
        precondition(obs.index.count == rows && genes.index.count == cols, "obs and var must match X")
        guard rows >= 1, cols >= 1 else { throw PVError.badInput(file: path, "nothing to export: X would be \(rows) x \(cols)") }
        let folder = try OutputFolder(path, kind: "zarr store") { FileManager.default.fileExists(atPath: $0 + "/.zgroup") }
        let store = ZarrStore(folder: folder, compressor: compressor)
        try store.group("", attributes: [
            "encoding-type": "anndata", "encoding-version": "0.1.0",
            "pv": ["tool": ToolContext.name, "version": pvVersion, "command": ToolContext.commandLine],
        ])
        try write(frame: obs, at: "obs", store)
        try write(frame: genes, at: "var", store)
        let cr = max(1, min(rows, chunkRows ?? (4 << 20) / (4 * cols)))
        let progress = Progress("writing \(URL(fileURLWithPath: path).lastPathComponent)", total: rows, unit: "cells")
        try store.rows("X", rows: rows, cols: cols, chunkRows: cr,
                       attributes: ["encoding-type": "array", "encoding-version": "0.2.0"], progress: progress, fill: fill)
        progress.finish()
        return folder
    }

    /// A dataframe group: the index as a string array named after the index, then each column.
    func write(frame: DataFrame, at path: String, _ store: ZarrStore) throws {
        // The index array is stored under the index's name, which must not clash with a column's.
        let indexKey = frame.columns.contains { $0.name == frame.indexName } || frame.indexName.isEmpty ? "_index" : frame.indexName
        var seen = Set<String>()
        for (name, _) in frame.columns where name.isEmpty || name.contains("/") || name.hasPrefix(".") || name == indexKey || !seen.insert(name).inserted {
            throw PVError.badInput(file: store.folder.path, "\(path) column '\(name)' cannot be stored in a zarr dataframe (empty, a path, the index's name, or given twice)")
        }
        try store.group(path, attributes: [
            "_index": indexKey, "column-order": frame.columns.map(\.name),
            "encoding-type": "dataframe", "encoding-version": "0.2.0",
        ])
        let stringArray: [String: Any] = ["encoding-type": "string-array", "encoding-version": "0.2.0"]
        let array: [String: Any] = ["encoding-type": "array", "encoding-version": "0.2.0"]
        try store.vector(path + "/" + indexKey, strings: frame.index, attributes: stringArray)
        for (name, values) in frame.columns {
            let p = path + "/" + name
            switch values {
            case .strings(let v): try store.vector(p, strings: v, attributes: stringArray)
            case .floats(let v): try store.vector(p, v, dtype: .float64, attributes: array)
            case .ints(let v): try store.vector(p, v, dtype: .int64, attributes: array)
            case .bools(let v): try store.vector(p, v.map { $0 ? UInt8(1) : 0 }, dtype: .bool, attributes: array)
            }
        }
    }
}
