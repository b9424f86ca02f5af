import Foundation
import XCTest
import PVShared

/// `.npz` archives: pv's writer against numpy.load, numpy's np.savez / np.savez_compressed files against pv's reader,
/// and damaged archives.
final class NPZTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("npz") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    static let meta = Array(#"{"kind": "test", "n": 3}"#.utf8)

    private func sample() -> NPZ {
        var z = NPZ()
        z.add("W", NPYTests.f32Values, shape: [3, 4])
        z.add("idx", ints: NPYTests.i64.map(Int64.init), shape: [7])
        z.add("empty", [], shape: [0, 2])
        z.addRaw("meta.json", Self.meta)
        return z
    }

    func testRoundTripInSwift() throws {
        let p = dir.appendingPathComponent("a.npz").path
        try sample().write(p)
        let z = try NPZ(path: p)
        XCTAssertEqual(z.members.map(\.name), ["W.npy", "idx.npy", "empty.npy", "meta.json"])
        XCTAssertEqual(try FormatTest.bits(z.array("W", file: p)), NPYTests.f32Bits)
        XCTAssertEqual(try z.array("idx", file: p).ints(), NPYTests.i64)
        XCTAssertEqual(try z.array("empty", file: p).shape, [0, 2])
        XCTAssertEqual(z.raw("meta.json"), Self.meta)
        XCTAssertNil(z.raw("nope"))
        assertPVError(exit: 65, "missing member b.npy") { _ = try z.array("b", file: p) }
        // Deterministic: the same content gives the same bytes (fixed zip timestamps).
        let q = dir.appendingPathComponent("b.npz").path
        try sample().write(q)
        XCTAssertEqual(FormatTest.read(p), FormatTest.read(q))
        XCTAssertEqual(FormatTest.temps(in: dir), [])
    }

    func testNumpyLoadsPVArchive() throws {
        guard TestSupport.pythonWithNumpy != nil else { throw XCTSkip("python3 with numpy not found; numpy compatibility not checked") }
        let p = dir.appendingPathComponent("pv.npz").path
        try sample().write(p)
        var u = NPZ(); u.addRaw("gène.txt", [1, 2])
        let q = dir.appendingPathComponent("utf8.npz").path
        try u.write(q)
        XCTAssertEqual(try NPZ(path: q).members.map(\.name), ["gène.txt"])
        let bits = NPYTests.f32Bits.map(String.init).joined(separator: ",")
        let ints = NPYTests.i64.map(String.init).joined(separator: ",")
        let (st, out) = try TestSupport.python("""
            import sys, zipfile, json, numpy as np
            zf = zipfile.ZipFile(sys.argv[1])
            assert zf.testzip() is None, 'CRC'
            assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
            z = np.load(sys.argv[1], allow_pickle=False)
            assert sorted(z.files) == ['W', 'empty', 'idx', 'meta.json'], z.files
            W = z['W']
            assert W.dtype == np.dtype('<f4') and W.shape == (3, 4), (W.dtype, W.shape)
            assert (W.view(np.uint32).ravel() == np.array([\(bits)], dtype=np.uint32)).all()
            idx = z['idx']
            assert idx.dtype == np.dtype('<i8') and idx.tolist() == [\(ints)], idx
            assert z['empty'].shape == (0, 2)
            assert z['meta.json'] == sys.argv[2].encode(), z['meta.json']
            assert json.loads(z['meta.json'])['n'] == 3
            assert zipfile.ZipFile(sys.argv[3]).namelist() == ['g\\u00e8ne.txt'], zipfile.ZipFile(sys.argv[3]).namelist()
            print('ok')
            """, args: [p, String(decoding: Self.meta, as: UTF8.self), q])
        XCTAssertEqual(st, 0, out)
        XCTAssertEqual(out, "ok\n")
    }

    func testReadsNumpySavezAndSavezCompressed() throws {
        for f in ["savez.npz", "savez_compressed.npz"] {
            let z = try NPZ(path: TestSupport.fixture(f))
            XCTAssertEqual(Set(z.members.map(\.name)), ["W.npy", "idx.npy", "b.npy"], f)
            let w = try z.array("W", file: f)
            XCTAssertEqual(w.shape, [3, 4], f)
            XCTAssertEqual(try FormatTest.bits(w), NPYTests.f32Bits, f)
            XCTAssertEqual(try z.array("idx", file: f).ints(), NPYTests.i64, f)
            XCTAssertEqual(try FormatTest.values(z.array("b", file: f)), [0, 1, 2, 3, 4, 5], f)
        }
    }

    // MARK: damaged archives

    func testCorruptCRC() throws {
        var z = NPZ()
        let marker = Array("0123456789abcdef-payload".utf8)
        z.addRaw("x.bin", marker)
        let p = dir.appendingPathComponent("c.npz").path
        try z.write(p)
        var b = FormatTest.read(p)
        let at = try XCTUnwrap((0...(b.count - marker.count)).first { Array(b[$0..<($0 + marker.count)]) == marker })
        b[at + 3] ^= 0x01
        let q = FormatTest.write(b, "corrupt.npz", in: dir)
        assertPVError(exit: 65, "corrupt.npz: byte \(at): not a valid .npz (zip) archive: member 'x.bin' fails its CRC check (corrupt file)") {
            _ = try NPZ(path: q)
        }
    }

    func testCorruptCompressedMember() throws {
        var b = FormatTest.read(TestSupport.fixture("savez_compressed.npz"))
        let start = 30 + (Int(b[26]) | Int(b[27]) << 8) + (Int(b[28]) | Int(b[29]) << 8)  // first member's data
        for i in 0..<8 { b[start + 2 + i] ^= 0x5a }
        let p = FormatTest.write(b, "cc.npz", in: dir)
        let e = assertPVError(exit: 65, "cc.npz") { _ = try NPZ(path: p) }
        let text = e?.description ?? ""
        XCTAssertTrue(text.contains("corrupt") || text.contains("CRC"), text)
    }

    func testTruncatedArchive() throws {
        let good = FormatTest.read(TestSupport.fixture("savez.npz"))
        for cut in [10, 100, good.count / 2] {
            let p = FormatTest.write(Array(good.dropLast(cut)), "t\(cut).npz", in: dir)
            assertPVError(exit: 65, "t\(cut).npz", "not a valid .npz (zip) archive: no end-of-central-directory record (truncated?)") {
                _ = try NPZ(path: p)
            }
        }
        let tiny = FormatTest.write(Array(good[0..<12]), "tiny.npz", in: dir)
        assertPVError(exit: 65, "not a valid .npz (zip) archive: too short") { _ = try NPZ(path: tiny) }
    }

    func testMemberPointingPastTheEnd() throws {
        // Central directory intact, member data cut out: the member offsets no longer fit.
        var z = NPZ(); z.add("W", NPYTests.f32Values, shape: [3, 4])
        let p = dir.appendingPathComponent("m.npz").path
        try z.write(p)
        var b = FormatTest.read(p)
        // Point the central directory's local-header offset (at CD + 42) far away.
        let eocd = b.count - 22
        let cd = Int(b[eocd + 16]) | Int(b[eocd + 17]) << 8 | Int(b[eocd + 18]) << 16 | Int(b[eocd + 19]) << 24
        b[cd + 42] = 0xff; b[cd + 43] = 0xff
        let q = FormatTest.write(b, "off.npz", in: dir)
        // The offset reported is the central-directory entry's, inside the file, not the corrupt one (issue 10).
        assertPVError(exit: 65, "off.npz: byte \(cd): not a valid .npz (zip) archive: member 'W.npy': local header offset 65535 is beyond the end of the file (\(b.count) bytes)") { _ = try NPZ(path: q) }
    }

    func testNotAZip() {
        let t = FormatTest.write(String(repeating: "barcode\tlabel\n", count: 10), "t.npz", in: dir)
        assertPVError(exit: 65, "t.npz: not a valid .npz (zip) archive") { _ = try NPZ(path: t) }
        assertPVError(exit: 65, "f32_3x4.npy: is a single .npy array, expected a .npz archive") {
            _ = try NPZ(path: TestSupport.fixture("f32_3x4.npy"))
        }
        let e = FormatTest.write([UInt8](), "e.npz", in: dir)
        assertPVError(exit: 65, "e.npz: empty file, expected a .npz archive") { _ = try NPZ(path: e) }
        assertPVError(exit: 66, "cannot open") { _ = try NPZ(path: dir.appendingPathComponent("missing.npz").path) }
    }

    func testEmptyDeflatedMember() throws {
        // Python's zipfile with ZIP_DEFLATED (fixture): an empty compressed member reads as empty.
        let z = try NPZ(path: TestSupport.fixture("deflated.zip"))
        XCTAssertEqual(z.raw("empty.txt"), [])
        XCTAssertEqual(z.raw("some.txt"), Array(String(repeating: "hello ", count: 100).utf8))
    }
}

/// Model files: an `.npz` of float32 tensors plus `meta.json`.
final class ModelFileTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("model") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    private func sample() -> ModelFile {
        var m = ModelFile(kind: "pvae", genes: ["G1", "G2", "G3"], targets: ["A", "B"],
                          meta: ["latent": 16, "lr": 0.001, "seed": 7, "history": [1.5, 1.25], "opts": ["beta": 0.5, "name": "x"],
                                 "resumed": false])
        m.set("enc.W", NPYTests.f32Values, shape: [3, 4])
        m.set("bias", [1, 2, 3], shape: [3])
        m.set("enc.W", NPYTests.f32Values.reversed(), shape: [4, 3])  // replacing keeps the first position
        return m
    }

    func testRoundTrip() throws {
        let p = dir.appendingPathComponent("model.npz").path
        try sample().write(p)
        let m = try ModelFile(path: p)
        XCTAssertEqual(m.kind, "pvae")
        XCTAssertEqual(m.genes, ["G1", "G2", "G3"])
        XCTAssertEqual(m.targets, ["A", "B"])
        XCTAssertEqual(m.tensorNames, ["enc.W", "bias"])
        XCTAssertEqual(m.shape("enc.W"), [4, 3])
        XCTAssertEqual(try m.tensor("enc.W", shape: [4, 3]).map(\.bitPattern), NPYTests.f32Values.reversed().map(\.bitPattern))
        XCTAssertEqual(try m.tensor("bias"), [1, 2, 3])
        XCTAssertTrue(m.has("bias")); XCTAssertFalse(m.has("dec.W"))
        XCTAssertEqual(m.meta["latent"] as? Int, 16)
        XCTAssertEqual(m.meta["lr"] as? Double, 0.001)
        XCTAssertEqual(m.meta["seed"] as? Int, 7)
        XCTAssertEqual(m.meta["history"] as? [Double], [1.5, 1.25])
        XCTAssertEqual((m.meta["opts"] as? [String: Any])?["name"] as? String, "x")
        XCTAssertEqual(m.meta["resumed"] as? Bool, false)
        XCTAssertEqual(m.meta["version"] as? String, pvVersion)
        XCTAssertNotNil(m.meta["tool"] as? String)
        XCTAssertNil(m.meta["kind"], "kind, genes and targets are fields, not meta")
        assertPVError(exit: 65, "m.npz", "tensor 'bias' has shape [3], expected [1, 3]") { _ = try m.tensor("bias", shape: [1, 3], file: "m.npz") }
        assertPVError(exit: 65, "model has no tensor 'dec.W' (kind pvae)") { _ = try m.tensor("dec.W") }
        // Writing what was read gives the same archive again.
        let q = dir.appendingPathComponent("again.npz").path
        try m.write(q)
        XCTAssertEqual(FormatTest.read(p), FormatTest.read(q))
    }

    func testNumpyReadsModel() throws {
        guard TestSupport.pythonWithNumpy != nil else { throw XCTSkip("python3 with numpy not found; numpy compatibility not checked") }
        let p = dir.appendingPathComponent("model.npz").path
        try sample().write(p)
        let (st, out) = try TestSupport.python("""
            import sys, json, numpy as np
            z = np.load(sys.argv[1])
            m = json.loads(z['meta.json'])
            assert m['kind'] == 'pvae' and m['genes'] == ['G1', 'G2', 'G3'] and m['targets'] == ['A', 'B'], m
            assert m['latent'] == 16 and m['opts'] == {'beta': 0.5, 'name': 'x'} and m['version'], m
            assert z['enc.W'].shape == (4, 3) and z['enc.W'].dtype == np.float32
            assert z['bias'].tolist() == [1.0, 2.0, 3.0]
            print('ok')
            """, args: [p])
        XCTAssertEqual(st, 0, out)
        XCTAssertEqual(out, "ok\n")
    }

    func testBadModels() throws {
        var z = NPZ(); z.add("W", [1], shape: [1])
        let noMeta = dir.appendingPathComponent("nometa.npz").path
        try z.write(noMeta)
        assertPVError(exit: 65, "nometa.npz: not a pv model: no meta.json member") { _ = try ModelFile(path: noMeta) }
        var a = NPZ(); a.addRaw("meta.json", Array("[1, 2]".utf8))
        let arr = dir.appendingPathComponent("arr.npz").path
        try a.write(arr)
        assertPVError(exit: 65, "arr.npz: meta.json is not a JSON object") { _ = try ModelFile(path: arr) }
        var k = NPZ(); k.addRaw("meta.json", Array(#"{"genes": []}"#.utf8))
        let nokind = dir.appendingPathComponent("nokind.npz").path
        try k.write(nokind)
        assertPVError(exit: 65, "nokind.npz: meta.json lacks 'kind'") { _ = try ModelFile(path: nokind) }
    }

    func testUnencodableMetaLeavesNoFile() throws {
        let m = ModelFile(kind: "pvae", genes: [], targets: [], meta: ["loss": Double.nan])
        let p = dir.appendingPathComponent("nan.npz").path
        assertPVError(exit: 74, "nan.npz: cannot encode meta.json") { try m.write(p) }
        XCTAssertEqual(TestSupport.files(in: dir), [])
    }
}
