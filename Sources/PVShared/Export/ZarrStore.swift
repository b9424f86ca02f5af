import Foundation
import CZlib

/// The compressor of a zarr v2 array: none (chunks hold the raw bytes) or numcodecs' `zlib` codec, whose chunks are
/// zlib streams (RFC 1950: header, deflate data, Adler-32), as Python's `zlib.compress` writes them.
public enum ZarrCompressor: Equatable, Sendable {
    case none
    case zlib(level: Int)

    /// The `compressor` entry of `.zarray`.
    var metadata: Any {
        switch self {
        case .none: return NSNull()
        case .zlib(let level): return ["id": "zlib", "level": level] as [String: Any]
        }
    }

    /// The stored bytes of one chunk.
    public func encode(_ raw: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard case .zlib(let level) = self else { return Array(raw) }
        var n = compressBound(uLong(raw.count))
        var out = [UInt8](repeating: 0, count: Int(n))
        let rc = out.withUnsafeMutableBytes { o in
            compress2(o.baseAddress!.assumingMemoryBound(to: Bytef.self), &n,
                      raw.baseAddress?.assumingMemoryBound(to: Bytef.self), uLong(raw.count), Int32(level))
        }
        guard rc == Z_OK else { throw PVError.io(file: "zlib", "compress2 failed (\(rc))") }
        out.removeSubrange(Int(n)...)
        return out
    }
}

/// The element types pv writes: little-endian numbers, booleans (one byte) and variable-length UTF-8 strings
/// (NumPy object arrays with numcodecs' `vlen-utf8` filter; fixed-width byte strings `|S` would read back as bytes).
public enum ZarrDType: String, Sendable {
    case float32 = "<f4", float64 = "<f8", int64 = "<i8", bool = "|b1", string = "|O"

    /// Bytes per element of the numeric types.
    public var size: Int {
        switch self {
        case .float32: return 4
        case .float64, .int64: return 8
        case .bool: return 1
        case .string: return 0
        }
    }

    /// `fill_value` as zarr-python writes it for the type (never read here: every chunk is written).
    var fillValue: Any {
        switch self {
        case .float32, .float64: return 0.0
        case .int64: return 0
        case .bool: return false
        case .string: return ""
        }
    }

    var filters: Any { self == .string ? [["id": "vlen-utf8"]] : NSNull() }
}

/// numcodecs' `vlen-utf8` encoding of a chunk of strings: the count as uint32, then each string as its uint32
/// byte length and its UTF-8 bytes (all little-endian).
public func vlenUTF8(_ strings: [String]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(4 + strings.reduce(0) { $0 + 4 + $1.utf8.count })
    func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) } }
    u32(strings.count)
    for s in strings { u32(s.utf8.count); out.append(contentsOf: s.utf8) }
    return out
}

/// A zarr v2 hierarchy written into an `OutputFolder`: `.zgroup`/`.zarray`/`.zattrs` JSON metadata and one file per
/// chunk, chunk keys joined by "." (C order). No zarr library: zarr-python 2 and 3 and anndata read what this writes.
public struct ZarrStore {
    public let folder: OutputFolder
    public let compressor: ZarrCompressor

    public init(folder: OutputFolder, compressor: ZarrCompressor) { self.folder = folder; self.compressor = compressor }

    /// A metadata document as zarr-python writes it (sorted keys, indented).
    static func json(_ object: [String: Any]) throws -> [UInt8] {
        do { return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) } catch {
            throw PVError.io(file: "zarr metadata", "cannot encode JSON: \(error)")
        }
    }

    private func file(_ node: String, _ name: String) -> String { node.isEmpty ? name : node + "/" + name }

    /// A group (`""` is the root) with its attributes.
    public func group(_ path: String, attributes: [String: Any] = [:]) throws {
        try folder.write(file(path, ".zgroup"), try ZarrStore.json(["zarr_format": 2]))
        if !attributes.isEmpty { try folder.write(file(path, ".zattrs"), try ZarrStore.json(attributes)) }
    }

    /// The metadata of an array; its chunks are written separately with `chunk`.
    public func array(_ path: String, shape: [Int], chunks: [Int], dtype: ZarrDType, attributes: [String: Any] = [:]) throws {
        let meta: [String: Any] = [
            "zarr_format": 2, "shape": shape, "chunks": chunks, "dtype": dtype.rawValue, "order": "C",
            "fill_value": dtype.fillValue, "filters": dtype.filters, "compressor": compressor.metadata,
            "dimension_separator": ".",
        ]
        try folder.write(file(path, ".zarray"), try ZarrStore.json(meta))
        if !attributes.isEmpty { try folder.write(file(path, ".zattrs"), try ZarrStore.json(attributes)) }
    }

    /// One chunk, given its grid position and its raw (uncompressed, full-size) bytes.
    public func chunk(_ path: String, at position: [Int], raw: UnsafeRawBufferPointer) throws {
        try folder.write(file(path, position.map(String.init).joined(separator: ".")), try compressor.encode(raw))
    }

    /// A 1-D array of strings in one chunk.
    public func vector(_ path: String, strings: [String], attributes: [String: Any] = [:]) throws {
        try array(path, shape: [strings.count], chunks: [max(strings.count, 1)], dtype: .string, attributes: attributes)
        if !strings.isEmpty { try vlenUTF8(strings).withUnsafeBytes { try chunk(path, at: [0], raw: $0) } }
    }

    /// A 1-D numeric or boolean array in one chunk; `T` must have the layout of `dtype` (Double, Int, UInt8 for bool).
    public func vector<T>(_ path: String, _ values: [T], dtype: ZarrDType, attributes: [String: Any] = [:]) throws {
        precondition(dtype != .string && MemoryLayout<T>.size == dtype.size, "element type does not match \(dtype)")
        try array(path, shape: [values.count], chunks: [max(values.count, 1)], dtype: dtype, attributes: attributes)
        if !values.isEmpty { try values.withUnsafeBytes { try chunk(path, at: [0], raw: $0) } }
    }

    /// A 2-D float32 array in chunks of `chunkRows` whole rows, compressed on all threads. `fill(i, dst)` writes row
    /// `i` into `dst` (`cols` values). The last chunk is stored full size, its rows past the end zero, as zarr requires.
    public func rows(_ path: String, rows: Int, cols: Int, chunkRows: Int, attributes: [String: Any] = [:],
                     progress: Progress? = nil, fill: (Int, UnsafeMutablePointer<Float>) -> Void) throws {
        precondition(chunkRows >= 1 && cols >= 1)
        try array(path, shape: [rows, cols], chunks: [chunkRows, cols], dtype: .float32, attributes: attributes)
        let nChunks = (rows + chunkRows - 1) / chunkRows
        let batch = min(nChunks, 2 * max(1, Parallel.threads))
        guard batch > 0 else { return }
        let perChunk = chunkRows * cols
        // One chunk buffer per slot of a batch, reused for every batch.
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: batch * perChunk)
        defer { buffer.deallocate() }
        let failure = Parallel.FirstError()
        for first in stride(from: 0, to: nChunks, by: batch) {
            let count = min(batch, nChunks - first)
            Parallel.chunks(count) { slots in
                for s in slots {
                    let c = first + s, dst = buffer + s * perChunk
                    let r0 = c * chunkRows, r1 = min(rows, r0 + chunkRows)
                    for r in r0..<r1 { fill(r, dst + (r - r0) * cols) }
                    if r1 - r0 < chunkRows { (dst + (r1 - r0) * cols).update(repeating: 0, count: (chunkRows - (r1 - r0)) * cols) }
                    failure.record { try chunk(path, at: [c, 0], raw: UnsafeRawBufferPointer(start: dst, count: perChunk * 4)) }
                }
            }
            try failure.rethrow()
            progress?.advance(min(rows, (first + count) * chunkRows) - first * chunkRows)
        }
    }
}
