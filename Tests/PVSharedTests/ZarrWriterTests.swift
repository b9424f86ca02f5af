import Foundation
import XCTest
import CZlib
import PVShared

/// The minimal zarr v2 writer behind pv-export, byte for byte: metadata JSON, chunk layout (whole rows, the last
/// chunk full size), numcodecs' vlen-utf8 encoding, zlib chunks (decoded here with zlib), the AnnData encoding
/// attributes, and the atomic folder it is written into.
final class ZarrWriterTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("zarr") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    private func json(_ path: String) throws -> [String: Any] {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: d) as? [String: Any], path)
    }

    private func inflate(_ bytes: [UInt8], size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        var n = uLongf(size)
        let rc = out.withUnsafeMutableBufferPointer { o in bytes.withUnsafeBufferPointer { uncompress(o.baseAddress!, &n, $0.baseAddress!, uLong(bytes.count)) } }
        XCTAssertEqual(rc, Z_OK, "chunk is a zlib stream")
        XCTAssertEqual(Int(n), size, "chunk inflates to the full chunk size")
        return out
    }

    private func floats(_ bytes: [UInt8]) -> [Float] {
        bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// Known answer from numcodecs 0.16: bytes(numcodecs.VLenUTF8().encode(np.array(['a', 'bc', 'é'], dtype=object))).
    func testVlenUTF8MatchesNumcodecs() {
        let expected: [UInt8] = [3, 0, 0, 0, 1, 0, 0, 0, 0x61, 2, 0, 0, 0, 0x62, 0x63, 2, 0, 0, 0, 0xc3, 0xa9]
        XCTAssertEqual(vlenUTF8(["a", "bc", "é"]), expected)
        XCTAssertEqual(vlenUTF8([]), [0, 0, 0, 0])
        XCTAssertEqual(vlenUTF8([""]), [1, 0, 0, 0, 0, 0, 0, 0], "an empty string is a zero length, no bytes")
    }

    func testZlibChunksInflateToTheRawBytes() throws {
        let raw = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7 % 13) }
        let z = try raw.withUnsafeBytes { try ZarrCompressor.zlib(level: 6).encode($0) }
        XCTAssertEqual(z.first, 0x78, "zlib header (RFC 1950), not gzip or raw deflate")
        XCTAssertLessThan(z.count, raw.count)
        XCTAssertEqual(inflate(z, size: raw.count), raw)
        XCTAssertEqual(try raw.withUnsafeBytes { try ZarrCompressor.none.encode($0) }, raw)
    }

    /// X in chunks of whole rows: keys "i.0", row-major little-endian float32, the last chunk zero-padded to full size.
    func testRowChunksAndMetadata() throws {
        for compressor in [ZarrCompressor.none, .zlib(level: 1)] {
            let target = dir.appendingPathComponent("m-\(compressor == .none ? "raw" : "zlib")").path
            let folder = try OutputFolder(target, kind: "zarr store") { _ in false }
            let store = ZarrStore(folder: folder, compressor: compressor)
            try store.group("")
            let rows = 5, cols = 3
            try store.rows("X", rows: rows, cols: cols, chunkRows: 2, attributes: ["encoding-type": "array"]) { i, dst in
                for j in 0..<cols { dst[j] = Float(10 * i + j) + 0.5 }
            }
            try folder.commit()
            XCTAssertEqual(TestSupport.files(in: URL(fileURLWithPath: target + "/X")), [".zarray", ".zattrs", "0.0", "1.0", "2.0"])
            let meta = try json(target + "/X/.zarray")
            XCTAssertEqual(meta["zarr_format"] as? Int, 2)
            XCTAssertEqual(meta["shape"] as? [Int], [5, 3])
            XCTAssertEqual(meta["chunks"] as? [Int], [2, 3])
            XCTAssertEqual(meta["dtype"] as? String, "<f4")
            XCTAssertEqual(meta["order"] as? String, "C")
            XCTAssertEqual(meta["dimension_separator"] as? String, ".")
            XCTAssertTrue(meta["filters"] is NSNull, "no filters on numbers")
            XCTAssertEqual((meta["fill_value"] as? NSNumber)?.doubleValue, 0)
            if compressor == .none {
                XCTAssertTrue(meta["compressor"] is NSNull, "raw chunks: compressor null")
            } else {
                let c = try XCTUnwrap(meta["compressor"] as? [String: Any])
                XCTAssertEqual(c["id"] as? String, "zlib")
                XCTAssertEqual(c["level"] as? Int, 1)
            }
            XCTAssertEqual(try json(target + "/.zgroup")["zarr_format"] as? Int, 2)
            for c in 0..<3 {
                var bytes = FormatTest.read(target + "/X/\(c).0")
                if compressor != .none { bytes = inflate(bytes, size: 2 * cols * 4) }
                XCTAssertEqual(bytes.count, 2 * cols * 4, "every chunk is stored full size")
                let expected: [Float] = (2 * c..<2 * c + 2).flatMap { i in (0..<cols).map { j in i < rows ? Float(10 * i + j) + 0.5 : 0 } }
                XCTAssertEqual(floats(bytes), expected, "chunk \(c)")
            }
        }
    }

    /// Strings are object arrays with the vlen-utf8 filter (not fixed-width bytes), numbers and booleans plain.
    func testVectorsOfStringsNumbersAndBooleans() throws {
        let folder = try OutputFolder(dir.appendingPathComponent("v").path, kind: "zarr store") { _ in false }
        let store = ZarrStore(folder: folder, compressor: .none)
        try store.vector("s", strings: ["ctrl", "KLF1+MAP2K6"])
        try store.vector("f", [1.5, -2.0], dtype: .float64)
        try store.vector("i", [7, -1], dtype: .int64)
        try store.vector("b", [UInt8(1), 0], dtype: .bool)
        try folder.commit()
        let p = folder.path
        let s = try json(p + "/s/.zarray")
        XCTAssertEqual(s["dtype"] as? String, "|O")
        XCTAssertEqual((s["filters"] as? [[String: String]])?.first?["id"], "vlen-utf8")
        XCTAssertEqual(s["fill_value"] as? String, "")
        XCTAssertEqual(FormatTest.read(p + "/s/0"), vlenUTF8(["ctrl", "KLF1+MAP2K6"]))
        XCTAssertEqual(try json(p + "/f/.zarray")["dtype"] as? String, "<f8")
        XCTAssertEqual(FormatTest.read(p + "/f/0"), [0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0])
        XCTAssertEqual(try json(p + "/i/.zarray")["dtype"] as? String, "<i8")
        XCTAssertEqual(FormatTest.read(p + "/i/0"), [7, 0, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0xff, count: 8))
        let b = try json(p + "/b/.zarray")
        XCTAssertEqual(b["dtype"] as? String, "|b1")
        XCTAssertEqual(b["fill_value"] as? Bool, false)
        XCTAssertEqual(FormatTest.read(p + "/b/0"), [1, 0])
    }

    /// Columns typed as pandas.read_csv types them, except the columns kept as text.
    func testColumnTypesFollowPandas() {
        XCTAssertEqual(FrameColumn.inferred(["1", "-2", "30"]), .ints([1, -2, 30]))
        guard case .floats(let f) = FrameColumn.inferred(["1", "2.5", "nan", ""]) else { return XCTFail("floats") }
        XCTAssertEqual(Array(f[0..<2]), [1, 2.5])
        XCTAssertTrue(f[2].isNaN && f[3].isNaN, "nan and empty are missing numbers")
        XCTAssertEqual(FrameColumn.inferred(["True", "False", "TRUE"]), .bools([true, false, true]))
        XCTAssertEqual(FrameColumn.inferred(["ctrl", "1"]), .strings(["ctrl", "1"]))
        XCTAssertEqual(FrameColumn.inferred(["1", "2"], text: true), .strings(["1", "2"]))
    }

    /// obs/var carry anndata's dataframe attributes (without them the index is dropped), strings are string-arrays.
    func testAnnDataLayout() throws {
        var obs = DataFrame(indexName: "barcode", index: ["c1", "c2"])
        obs.set("label", .strings(["ctrl", "A"]))
        obs.set("n_counts", .floats([3, 4]))
        let genes = DataFrame(indexName: "symbol", index: ["G1", "G2", "G3"], columns: [("highly_variable", .bools([true, false, true]))])
        let path = dir.appendingPathComponent("a.zarr").path
        let x: [Float] = [0, 1, 2, 3, 4, 5]
        let folder = try AnnDataZarr(compressor: .none).write(path, rows: 2, cols: 3, obs: obs, var: genes) { i, dst in
            for j in 0..<3 { dst[j] = x[i * 3 + j] }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing at the target before commit")
        try folder.commit()
        let root = try json(path + "/.zattrs")
        XCTAssertEqual(root["encoding-type"] as? String, "anndata")
        XCTAssertEqual(root["encoding-version"] as? String, "0.1.0")
        let o = try json(path + "/obs/.zattrs")
        XCTAssertEqual(o["_index"] as? String, "barcode")
        XCTAssertEqual(o["column-order"] as? [String], ["label", "n_counts"])
        XCTAssertEqual(o["encoding-type"] as? String, "dataframe")
        XCTAssertEqual(o["encoding-version"] as? String, "0.2.0")
        XCTAssertEqual(try json(path + "/obs/barcode/.zattrs")["encoding-type"] as? String, "string-array")
        XCTAssertEqual(try json(path + "/obs/label/.zattrs")["encoding-type"] as? String, "string-array")
        XCTAssertEqual(try json(path + "/obs/n_counts/.zattrs")["encoding-type"] as? String, "array")
        XCTAssertEqual(FormatTest.read(path + "/obs/barcode/0"), vlenUTF8(["c1", "c2"]))
        XCTAssertEqual(try json(path + "/var/.zattrs")["_index"] as? String, "symbol")
        XCTAssertEqual(FormatTest.read(path + "/var/symbol/0"), vlenUTF8(["G1", "G2", "G3"]))
        XCTAssertEqual(try json(path + "/X/.zattrs")["encoding-type"] as? String, "array")
        XCTAssertEqual(floats(FormatTest.read(path + "/X/0.0")), x)
        // A column named like the index would overwrite it: the index moves to "_index", as anndata does.
        var clash = DataFrame(indexName: "label", index: ["c1", "c2"])
        clash.set("label", .strings(["x", "y"]))
        let p2 = dir.appendingPathComponent("b.zarr").path
        try AnnDataZarr().write(p2, rows: 2, cols: 3, obs: clash, var: genes) { _, dst in dst.update(repeating: 1, count: 3) }.commit()
        XCTAssertEqual(try json(p2 + "/obs/.zattrs")["_index"] as? String, "_index")
        // Two columns of one name would overwrite each other: refused, and nothing is left.
        let twice = DataFrame(indexName: "barcode", index: ["c1", "c2"], columns: [("x", .ints([1, 2])), ("x", .ints([3, 4]))])
        assertPVError(exit: 65, "obs column 'x' cannot be stored") {
            _ = try AnnDataZarr().write(dir.appendingPathComponent("c.zarr").path, rows: 2, cols: 3, obs: twice, var: genes) { _, _ in }
        }
        XCTAssertEqual(TestSupport.files(in: dir), ["a.zarr", "b.zarr"])
    }

    /// The store is a folder: built beside the target, renamed into place, removed on failure; an earlier store is
    /// replaced, anything else at the target is refused.
    func testFolderOutputIsAtomic() throws {
        let target = dir.appendingPathComponent("s.zarr").path
        let f1 = try OutputFolder(target, kind: "zarr store") { _ in false }
        try f1.write("a/b", Array("x".utf8))
        XCTAssertEqual(TestSupport.files(in: dir).count, 1)
        XCTAssertTrue(TestSupport.files(in: dir)[0].hasPrefix(".s.zarr."), "temporary folder is hidden and beside the target")
        f1.abandon()
        XCTAssertEqual(TestSupport.files(in: dir), [], "abandon leaves nothing")

        do { let f = try OutputFolder(target, kind: "zarr store") { _ in false }; try f.write("x", [1]) }
        XCTAssertEqual(TestSupport.files(in: dir), [], "dropped without commit leaves nothing")

        let f2 = try OutputFolder(target, kind: "zarr store") { _ in false }
        try f2.write(".zgroup", Array("old".utf8))
        try f2.commit()
        let f3 = try OutputFolder(target, kind: "zarr store") { FileManager.default.fileExists(atPath: $0 + "/.zgroup") }
        try f3.write("new", [1])
        XCTAssertEqual(FormatTest.read(target + "/.zgroup"), Array("old".utf8), "the earlier store is untouched while writing")
        try f3.commit()
        XCTAssertEqual(TestSupport.files(in: URL(fileURLWithPath: target)), ["new"], "replaced whole, nothing of the old store left")
        XCTAssertEqual(TestSupport.files(in: dir), ["s.zarr"])

        let other = dir.appendingPathComponent("results").path
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: false)
        _ = FormatTest.write("keep", "results/notes.txt", in: dir)
        assertPVError(exit: 74, "exists and is not a zarr store") {
            _ = try OutputFolder(other, kind: "zarr store") { FileManager.default.fileExists(atPath: $0 + "/.zgroup") }
        }
        XCTAssertEqual(TestSupport.files(in: URL(fileURLWithPath: other)), ["notes.txt"])
        assertPVError(exit: 74, "does not exist") { _ = try OutputFolder(dir.path + "/no/such/x.zarr", kind: "zarr store") { _ in true } }

        // A failing tool removes pending folders like pending files.
        let f4 = try OutputFolder(dir.appendingPathComponent("p.zarr").path, kind: "zarr store") { _ in false }
        try f4.write("deep/chunk", [1, 2, 3])
        PendingOutputs.removeAll()
        XCTAssertFalse(FileManager.default.fileExists(atPath: f4.tmpPath))
    }
}
