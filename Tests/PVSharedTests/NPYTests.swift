import Foundation
import XCTest
import PVShared

/// `.npy` reading and writing against files written by numpy (Tests/reference/make_npy_fixtures.py).
final class NPYTests: XCTestCase {
    /// The bit patterns make_npy_fixtures.py stores in f32_3x4.npy (row-major 3x4): +0, -0, 1, -1.5, smallest and
    /// largest denormal, smallest normal, FLT_MAX, -FLT_MAX, +inf, 1/3, pi.
    static let f32Bits: [UInt32] = [0x0000_0000, 0x8000_0000, 0x3F80_0000, 0xBFC0_0000,
                                    0x0000_0001, 0x007F_FFFF, 0x0080_0000, 0x7F7F_FFFF,
                                    0xFF7F_FFFF, 0x7F80_0000, 0x3EAA_AAAB, 0x4049_0FDB]
    static let i64: [Int] = [0, 1, -1, (1 << 62) + 7, Int.min, Int.max, 123_456_789_012]
    static var f32Values: [Float] { f32Bits.map { Float(bitPattern: $0) } }

    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("npy") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    // MARK: reading numpy's files

    func testReadsNumpyFloat32Bitwise() throws {
        let a = try NPYArray(path: TestSupport.fixture("f32_3x4.npy"))
        XCTAssertEqual(a.dtype, .float32)
        XCTAssertEqual(a.shape, [3, 4])
        XCTAssertEqual(try FormatTest.bits(a), Self.f32Bits)
        let m = try a.matrix()
        XCTAssertEqual(m.rows, 3); XCTAssertEqual(m.cols, 4)
        XCTAssertEqual(m.values[1 * 4 + 0].bitPattern, 0x0000_0001, "row-major: element [1,0] is the smallest denormal")
        XCTAssertEqual(a.floatArray().map(\.bitPattern), Self.f32Bits)
        XCTAssertEqual(Int(bitPattern: a.data) % 4, 0, "float data must be aligned")
    }

    func testReadsNumpyVersion2File() throws {
        let a = try NPYArray(path: TestSupport.fixture("f32_3x4_v2.npy"))
        XCTAssertEqual(FormatTest.read(TestSupport.fixture("f32_3x4_v2.npy"))[6], 2, "fixture is format 2.0")
        XCTAssertEqual(a.shape, [3, 4])
        XCTAssertEqual(try FormatTest.bits(a), Self.f32Bits)
    }

    func testReadsNumpyIntegerArrays() throws {
        let a = try NPYArray(path: TestSupport.fixture("i64_1d.npy"))
        XCTAssertEqual(a.dtype, .int64); XCTAssertEqual(a.shape, [7])
        XCTAssertEqual(try a.ints(), Self.i64)
        let b = try NPYArray(path: TestSupport.fixture("i32_2x3.npy"))
        XCTAssertEqual(b.dtype, .int32); XCTAssertEqual(b.shape, [2, 3])
        XCTAssertEqual(try b.ints(), [Int(Int32.min), -1, 0, 1, Int(Int32.max), 42])
        XCTAssertEqual(b.floatArray(), [Float(Int32.min), -1, 0, 1, Float(Int32.max), 42])
    }

    func testReadsFloat64ScalarAndEmpty() throws {
        let d = try NPYArray(path: TestSupport.fixture("f64_1d.npy"))
        XCTAssertEqual(d.dtype, .float64)
        XCTAssertEqual(d.floatArray(), [0.5, -2.0, 0])  // 1e-300 underflows to 0 in float32
        let s = try NPYArray(path: TestSupport.fixture("f32_scalar.npy"))
        XCTAssertEqual(s.shape, []); XCTAssertEqual(s.count, 1)
        XCTAssertEqual(try FormatTest.values(s).first, 2.5)
        let e = try NPYArray(path: TestSupport.fixture("f32_empty_0x5.npy"))
        XCTAssertEqual(e.shape, [0, 5]); XCTAssertEqual(e.count, 0)
        XCTAssertEqual(try e.matrix().rows, 0)
        XCTAssertEqual(try FormatTest.values(e).count, 0)
    }

    // MARK: writing

    func testWriteIsByteIdenticalToNumpy() throws {
        // pv's header text and padding match numpy's format 1.0 exactly, so the whole file is the same.
        let p = dir.appendingPathComponent("w.npy").path
        try writeNPY(p, Self.f32Values, shape: [3, 4])
        XCTAssertEqual(FormatTest.read(p), FormatTest.read(TestSupport.fixture("f32_3x4.npy")))
        let i = Self.i64.map(Int64.init).withUnsafeBufferPointer { npyBytes($0, dtype: .int64, shape: [7]) }
        XCTAssertEqual(i, FormatTest.read(TestSupport.fixture("i64_1d.npy")))
    }

    func testHeaderIs64ByteAlignedAndParsesBack() throws {
        let shapes: [[Int]] = [[], [0], [1], [7], [3, 4], [123_456, 98_765], [1, 2, 3, 4, 5, 6],
                               [Int(Int32.max), 3], Array(repeating: 1, count: 40)]
        for shape in shapes {
            for dtype in [NPYDType.float32, .float64, .int32, .int64] {
                let h = NPYHeader(dtype: dtype, shape: shape)
                let e = h.encoded()
                XCTAssertEqual(e.count % 64, 0, "\(shape)")
                XCTAssertEqual(e.last, 0x0a, "header ends with a newline")
                XCTAssertEqual(e[6], 1, "format 1.0")
                XCTAssertEqual(Int(e[8]) | Int(e[9]) << 8, e.count - 10, "header length field")
                let (back, off) = try e.withUnsafeBytes { try NPYHeader.parse($0, name: "h") }
                XCTAssertEqual(back, h); XCTAssertEqual(off, e.count)
            }
        }
        XCTAssertTrue(String(decoding: NPYHeader(dtype: .float32, shape: [5]).encoded(), as: UTF8.self).contains("'shape': (5,)"),
                      "a 1-D shape is a one-element tuple")
    }

    func testLongHeaderSwitchesToVersion2() throws {
        let shape = Array(repeating: 1, count: 25_000)  // "1, " x 25000 > 65 535 header bytes
        let h = NPYHeader(dtype: .float32, shape: shape)
        let e = h.encoded()
        XCTAssertEqual(e[6], 2)
        XCTAssertEqual(e.count % 64, 0)
        let (back, off) = try e.withUnsafeBytes { try NPYHeader.parse($0, name: "h") }
        XCTAssertEqual(back.shape.count, 25_000); XCTAssertEqual(off, e.count)
    }

    func testRoundTripInSwift() throws {
        let p = dir.appendingPathComponent("r.npy").path
        var vals = Self.f32Values
        vals += [Float.nan, -Float.infinity, Float.leastNormalMagnitude, -Float.leastNonzeroMagnitude]
        vals += (0..<1000).map { Float($0) * 0.37 - 100 }
        try writeNPY(p, vals, shape: [4, vals.count / 4])
        let a = try NPYArray(path: p)
        XCTAssertEqual(a.shape, [4, vals.count / 4])
        XCTAssertEqual(try FormatTest.bits(a), vals.map(\.bitPattern))
        XCTAssertEqual(FormatTest.temps(in: dir), [])
        // In-memory images (as NPZ members use) read the same.
        let bytes = FormatTest.read(p)
        let b = try bytes.withUnsafeBytes { try NPYArray(bytes: $0, name: "mem") }
        XCTAssertEqual(try FormatTest.bits(b), vals.map(\.bitPattern))
    }

    func testGzippedNPYReadsLikeThePlainFile() throws {
        let p = dir.appendingPathComponent("g.npy").path
        let vals = Self.f32Values + (0..<100).map { Float($0) * 0.5 }
        try writeNPY(p, vals, shape: [4, vals.count / 4])
        let gz = dir.appendingPathComponent("g.npy.gz").path
        try writeFileAtomically(gz) { out in
            let w = try GzipWriter(out)
            try FormatTest.read(p).withUnsafeBytes { try w.write($0) }
            try w.finish()
        }
        let a = try NPYArray(path: gz)
        XCTAssertEqual(a.shape, [4, vals.count / 4])
        XCTAssertEqual(try FormatTest.bits(a), vals.map(\.bitPattern))
        // A truncated gzip body is reported as such, not as a bad .npy magic.
        let bytes = FormatTest.read(gz)
        let cut = dir.appendingPathComponent("cut.npy").path
        FileManager.default.createFile(atPath: cut, contents: Data(bytes.prefix(bytes.count / 2)))
        XCTAssertThrowsError(try NPYArray(path: cut)) { e in
            XCTAssertTrue("\(e)".contains("truncated gzip stream"), "\(e)")
        }
    }

    func testNumpyLoadsPVFile() throws {
        guard TestSupport.pythonWithNumpy != nil else { throw XCTSkip("python3 with numpy not found; numpy compatibility not checked") }
        let p = dir.appendingPathComponent("pv.npy").path
        let vals = Self.f32Values + [Float.nan, 7, 8, 9]
        try writeNPY(p, vals, shape: [2, 8])
        let bits = vals.map { String($0.bitPattern) }.joined(separator: ",")
        let (st, out) = try TestSupport.python("""
            import sys, numpy as np
            a = np.load(sys.argv[1], allow_pickle=False)
            assert a.dtype == np.dtype('<f4'), a.dtype
            assert a.shape == (2, 8), a.shape
            assert a.flags['C_CONTIGUOUS']
            want = np.array([\(bits)], dtype=np.uint32).reshape(2, 8)
            assert (a.view(np.uint32) == want).all(), a
            with open(sys.argv[1], 'rb') as f:
                major, minor = np.lib.format.read_magic(f)
                assert (major, minor) == (1, 0)
            print('ok')
            """, args: [p])
        XCTAssertEqual(st, 0, out)
        XCTAssertEqual(out, "ok\n")
    }

    // MARK: bad inputs

    private var good: [UInt8] { FormatTest.read(TestSupport.fixture("f32_3x4.npy")) }

    func testBadMagic() {
        var b = good; b[5] = UInt8(ascii: "X")
        let p = FormatTest.write(b, "m.npy", in: dir)
        let e = assertPVError(exit: 65, "m.npy", "not a NumPy .npy file (bad magic)") { _ = try NPYArray(path: p) }
        XCTAssertEqual(e, .badInput(file: p, line: nil, offset: 0, "not a NumPy .npy file (bad magic)"))
        let t = FormatTest.write("barcode\tlabel\n", "t.npy", in: dir)
        assertPVError(exit: 65, "bad magic") { _ = try NPYArray(path: t) }
    }

    func testUnsupportedVersion() {
        var b = good; b[6] = 4
        let p = FormatTest.write(b, "v.npy", in: dir)
        assertPVError(exit: 65, "unsupported .npy format version 4.0") { _ = try NPYArray(path: p) }
    }

    func testWrongDtypesWrittenByNumpy() {
        for (f, d) in [("f32_bigendian.npy", ">f4"), ("f16.npy", "<f2"), ("u8.npy", "|u1")] {
            assertPVError(exit: 65, f, "unsupported dtype '\(d)'", "expected float32 '<f4'") {
                _ = try NPYArray(path: TestSupport.fixture(f))
            }
        }
    }

    func testFortranOrderRejected() {
        assertPVError(exit: 65, "f32_fortran.npy", "Fortran-ordered array") {
            _ = try NPYArray(path: TestSupport.fixture("f32_fortran.npy"))
        }
    }

    func testTruncatedHeader() {
        for n in [3, 9, 11, 50, 127] {
            let p = FormatTest.write(Array(good[0..<n]), "h\(n).npy", in: dir)
            assertPVError(exit: 65, "truncated .npy header") { _ = try NPYArray(path: p) }
        }
    }

    func testTruncatedBody() {
        let p = FormatTest.write(Array(good.dropLast(4)), "b.npy", in: dir)
        assertPVError(exit: 65, "b.npy: byte 172: truncated .npy body: shape [3, 4] needs 48 bytes of data, file has 44") {
            _ = try NPYArray(path: p)
        }
        let q = FormatTest.write(Array(good[0..<128]), "hdr-only.npy", in: dir)
        assertPVError(exit: 65, "needs 48 bytes of data, file has 0") { _ = try NPYArray(path: q) }
    }

    func testTrailingBytes() {
        let p = FormatTest.write(good + [1, 2, 3], "x.npy", in: dir)
        assertPVError(exit: 65, "x.npy: byte 176: 3 bytes after the data that shape [3, 4] declares") { _ = try NPYArray(path: p) }
    }

    func testBadShapes() {
        func withShape(_ s: String) -> [UInt8] {
            var h = "{'descr': '<f4', 'fortran_order': False, 'shape': \(s), }"
            h += String(repeating: " ", count: 117 - h.utf8.count) + "\n"
            return [0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0] + Array(h.utf8)
        }
        let neg = FormatTest.write(withShape("(-1, 3)"), "neg.npy", in: dir)
        assertPVError(exit: 65, "bad shape entry '-1'") { _ = try NPYArray(path: neg) }
        // 2^62 x 4 elements x 4 bytes wraps Int; must be an error, not a tiny "valid" array.
        let big = FormatTest.write(withShape("(4611686018427387904, 4)"), "big.npy", in: dir)
        assertPVError(exit: 65, "is too large") { _ = try NPYArray(path: big) }
        let none = FormatTest.write(withShape("7"), "noshape.npy", in: dir)
        assertPVError(exit: 65, "lacks 'shape'") { _ = try NPYArray(path: none) }
    }

    func testEmptyMissingAndFolder() {
        let p = FormatTest.write([UInt8](), "e.npy", in: dir)
        assertPVError(exit: 65, "e.npy: empty file, expected a NumPy .npy array") { _ = try NPYArray(path: p) }
        let m = dir.appendingPathComponent("nope.npy").path
        let e = assertPVError(exit: 66, "nope.npy: cannot open: No such file or directory") { _ = try NPYArray(path: m) }
        if case .missingInput = e {} else { XCTFail("expected .missingInput, got \(String(describing: e))") }
        assertPVError(exit: 66, "is a folder") { _ = try NPYArray(path: dir.path) }
    }

    func testTypedAccessorsRefuseOtherDtypes() throws {
        let i = try NPYArray(path: TestSupport.fixture("i64_1d.npy"))
        assertPVError(exit: 65, "i64_1d.npy: dtype is <i8, expected float32 '<f4'") { _ = try i.floats() }
        assertPVError(exit: 65, "expected a 2-D array, got shape [7]") { _ = try i.matrix() }
        let f = try NPYArray(path: TestSupport.fixture("f32_3x4.npy"))
        assertPVError(exit: 65, "dtype is <f4, expected an integer array") { _ = try f.ints() }
    }

    func testReadsFromAPipe() throws {
        // Process substitution and named pipes cannot be mmapped; they must still read (not "empty file").
        let fifo = dir.appendingPathComponent("pipe.npy").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let bytes = good
        let writer = Thread {
            if let h = FileHandle(forWritingAtPath: fifo) { h.write(Data(bytes)); try? h.close() }
        }
        writer.start()
        // Watchdog: should the reader ever open the FIFO a second time it would block forever; a late empty writer
        // turns that hang into a failure.
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) {
            let fd = open(fifo, O_WRONLY | O_NONBLOCK); if fd >= 0 { close(fd) }
        }
        let a = try NPYArray(path: fifo)
        XCTAssertEqual(try FormatTest.bits(a), Self.f32Bits)
    }
}
