import Foundation
import XCTest
import PVShared

/// ByteSource (plain/gzip by magic), GzipWriter and crc32Of.
final class GzipTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("gz") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    static let twoMembersText = "alpha\tone\nbeta\ttwo\ngamma\tthree\r\ndelta\tfour"

    private func lines(_ path: String, bufferSize: Int = 1 << 20) throws -> [String] {
        let r = LineReader(try ByteSource(path: path), bufferSize: bufferSize)
        var out: [String] = []
        while let l = try r.nextString() { out.append(l); XCTAssertEqual(r.lineNumber, out.count) }
        return out
    }

    /// gzip bytes written by pv's own GzipWriter.
    private func gzip(_ text: String, name: String = "w.gz") throws -> [UInt8] {
        let p = dir.appendingPathComponent(name).path
        let out = try OutputFile(p)
        let g = try GzipWriter(out)
        try g.write(text)
        try g.finish(); try out.commit()
        return FormatTest.read(p)
    }

    func testMultiMemberGzipFromPython() throws {
        let p = TestSupport.fixture("two_members.txt.gz")
        let s = try ByteSource(path: p)
        XCTAssertTrue(s.isGzip)
        XCTAssertEqual(String(decoding: try s.readAll(), as: UTF8.self), Self.twoMembersText)
        XCTAssertEqual(s.fileSize, FormatTest.read(p).count)
        XCTAssertEqual(s.rawBytesRead, FormatTest.read(p).count)
        XCTAssertEqual(try lines(p), ["alpha\tone", "beta\ttwo", "gamma\tthree", "delta\tfour"])
    }

    func testGzipDetectedByMagicNotName() throws {
        // A gzip file with a plain name...
        let g = try ByteSource(path: TestSupport.fixture("gzipped_plain_name.tsv"))
        XCTAssertTrue(g.isGzip)
        XCTAssertEqual(String(decoding: try g.readAll(), as: UTF8.self), "# provenance\nid\tvalue\nx\t1\ny\t2\n")
        // ...and a plain file named .gz.
        let p = FormatTest.write("a\tb\n1\t2\n", "plain.tsv.gz", in: dir)
        let s = try ByteSource(path: p)
        XCTAssertFalse(s.isGzip)
        XCTAssertEqual(try lines(p), ["a\tb", "1\t2"])
        // A one-byte file starting like gzip is still plain.
        let one = FormatTest.write([0x1f], "one.gz", in: dir)
        XCTAssertEqual(try ByteSource(path: one).readAll(), [0x1f])
    }

    func testTruncatedGzip() throws {
        let good = FormatTest.read(TestSupport.fixture("two_members.txt.gz"))
        // Cut inside the second member's trailer, inside its body, and inside the first member.
        for cut in [1, 4, 12, good.count / 2 + 5, good.count - 3] {
            let p = FormatTest.write(Array(good.dropLast(cut)), "t\(cut).gz", in: dir)
            let e = assertPVError(exit: 65, "t\(cut).gz", "truncated gzip stream") { _ = try ByteSource(path: p).readAll() }
            if case .badInput(_, _, let off, _)? = e { XCTAssertEqual(off, good.count - cut, "offset is the end of the file") }
            assertPVError(exit: 65, "truncated gzip stream") { _ = try self.lines(p) }
        }
        let magicOnly = FormatTest.write([0x1f, 0x8b], "m.gz", in: dir)
        assertPVError(exit: 65, "truncated gzip stream") { _ = try ByteSource(path: magicOnly).readAll() }
    }

    func testCorruptGzip() throws {
        var b = try gzip(String(repeating: "some text that compresses\n", count: 200))
        // Damage the deflate data.
        for i in 12..<20 { b[i] ^= 0xff }
        let p = FormatTest.write(b, "c.gz", in: dir)
        assertPVError(exit: 65, "c.gz: byte ", "corrupt gzip stream") { _ = try ByteSource(path: p).readAll() }
        // Damage only the CRC in the trailer: the data inflate fine but must not be accepted.
        var t = try gzip("hello\n")
        t[t.count - 8] ^= 0x01
        let q = FormatTest.write(t, "crc.gz", in: dir)
        assertPVError(exit: 65, "corrupt gzip stream: incorrect data check") { _ = try ByteSource(path: q).readAll() }
        // Bad header flags/method.
        var h = try gzip("hello\n"); h[2] = 7
        let r = FormatTest.write(h, "method.gz", in: dir)
        assertPVError(exit: 65, "corrupt gzip stream") { _ = try ByteSource(path: r).readAll() }
    }

    func testTrailingBytesAfterMember() throws {
        let g = try gzip("x\n")
        let pad = FormatTest.write(g + [0, 0, 0, 0], "pad.gz", in: dir)
        XCTAssertEqual(try ByteSource(path: pad).readAll(), Array("x\n".utf8), "zero padding (tape blocks) is accepted")
        let junk = FormatTest.write(g + Array("junk".utf8), "junk.gz", in: dir)
        assertPVError(exit: 65, "junk.gz: byte \(g.count): corrupt gzip stream: unexpected bytes after the end of a gzip member") {
            _ = try ByteSource(path: junk).readAll()
        }
    }

    func testEmptyFilesAndMembers() throws {
        let e = FormatTest.write([UInt8](), "empty", in: dir)
        XCTAssertEqual(try ByteSource(path: e).readAll(), [])
        XCTAssertEqual(try lines(e), [])
        let ez = FormatTest.write(try gzip(""), "empty.gz", in: dir)
        XCTAssertTrue(try ByteSource(path: ez).isGzip)
        XCTAssertEqual(try lines(ez), [])
        // An empty member between two others.
        let mid = FormatTest.write(try gzip("a\n") + (try gzip("")) + (try gzip("b\n")), "mid.gz", in: dir)
        XCTAssertEqual(try lines(mid), ["a", "b"])
    }

    func testMissingAndFolder() {
        let e = assertPVError(exit: 66, "nope.txt: cannot open: No such file or directory") {
            _ = try ByteSource(path: self.dir.appendingPathComponent("nope.txt").path)
        }
        if case .missingInput? = e {} else { XCTFail("expected .missingInput") }
        assertPVError(exit: 66, "is a folder, expected a file") { _ = try ByteSource(path: self.dir.path) }
    }

    func testZeroLengthReadReturns() throws {
        let p = FormatTest.write(try gzip("abc"), "z.gz", in: dir)
        let s = try ByteSource(path: p)
        var empty = [UInt8]()
        XCTAssertEqual(try empty.withUnsafeMutableBytes { try s.read(into: $0) }, 0)
        XCTAssertEqual(try s.readAll(), Array("abc".utf8))
    }

    func testGzipWriterRoundTripLarge() throws {
        // Several MiB through both write paths (String and raw bytes), crossing every internal buffer size.
        var expect = [UInt8]()
        let p = dir.appendingPathComponent("big.gz").path
        let out = try OutputFile(p)
        let g = try GzipWriter(out, level: 1)
        var x: UInt64 = 88_172_645_463_325_252
        for i in 0..<300 {
            let s = "line \(i)\t" + String(repeating: "ACGT", count: i * 7) + "\n"
            try g.write(s); expect += Array(s.utf8)
            var raw = [UInt8](repeating: 0, count: 9_000 + i)
            for j in raw.indices { x ^= x << 13; x ^= x >> 7; x ^= x << 17; raw[j] = UInt8(truncatingIfNeeded: x) }
            try raw.withUnsafeBytes { try g.write($0) }; expect += raw
        }
        try g.finish()
        try g.finish()  // idempotent
        try out.commit()
        let s = try ByteSource(path: p)
        XCTAssertTrue(s.isGzip)
        let back = try s.readAll()
        XCTAssertEqual(back.count, expect.count)
        XCTAssertTrue(back == expect)
        XCTAssertLessThan(FormatTest.read(p).count, expect.count)
    }

    func testPythonReadsGzipWriterOutput() throws {
        guard TestSupport.pythonWithNumpy != nil else { throw XCTSkip("python3 not found; gzip compatibility not checked") }
        let text = (0..<5000).map { "row\($0)\t\($0 * $0)\n" }.joined()
        let p = FormatTest.write(try gzip(text), "py.gz", in: dir)
        let plain = FormatTest.write(text, "py.txt", in: dir)
        let (st, out) = try TestSupport.python("""
            import sys, gzip
            d = gzip.open(sys.argv[1]).read()
            print(len(d), d == open(sys.argv[2], 'rb').read())
            """, args: [p, plain])
        XCTAssertEqual(st, 0, out)
        XCTAssertEqual(out, "\(text.utf8.count) True\n")
    }

    func testCRC32KnownAnswers() {
        // Standard check value of CRC-32/ISO-HDLC (zlib, zip, gzip).
        let nine = Array("123456789".utf8)
        XCTAssertEqual(nine.withUnsafeBytes { crc32Of($0) }, 0xCBF4_3926)
        XCTAssertEqual([UInt8]().withUnsafeBytes { crc32Of($0) }, 0)
        let a = Array("12345".utf8), b = Array("6789".utf8)
        let chained = b.withUnsafeBytes { bb in crc32Of(bb, seed: a.withUnsafeBytes { crc32Of($0) }) }
        XCTAssertEqual(chained, 0xCBF4_3926)
    }
}

/// LineReader: line ends, long lines, buffer boundaries, UTF-8.
final class LineReaderTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("lines") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    private func lines(_ path: String, bufferSize: Int = 1 << 20) throws -> [String] {
        let r = LineReader(try ByteSource(path: path), bufferSize: bufferSize)
        var out: [String] = []
        while let l = try r.next() { out.append(String(decoding: l, as: UTF8.self)); XCTAssertEqual(r.lineNumber, out.count) }
        XCTAssertNil(try r.next(), "stays at end")
        return out
    }

    func testLineEnds() throws {
        let p = FormatTest.write("a\r\nb\n\nc\r\n\r\nlast", "e.txt", in: dir)
        XCTAssertEqual(try lines(p), ["a", "b", "", "c", "", "last"])
        let q = FormatTest.write("x\ny\n", "f.txt", in: dir)
        XCTAssertEqual(try lines(q), ["x", "y"], "a final newline does not make an empty last line")
        let r = FormatTest.write("only\r", "g.txt", in: dir)
        XCTAssertEqual(try lines(r), ["only"])
        let s = FormatTest.write("\n", "h.txt", in: dir)
        XCTAssertEqual(try lines(s), [""])
        let inner = FormatTest.write("a\rb\n", "i.txt", in: dir)
        XCTAssertEqual(try lines(inner), ["a\rb"], "a lone CR inside a line is data")
    }

    func testLinesLongerThanTheBuffer() throws {
        // 3 MiB line (buffer is 1 MiB), then short ones; plain and gzip.
        let long = String(repeating: "0123456789abcdef", count: 3 << 16)
        let text = "first\n" + long + "\r\nshort\n" + long + "x"
        let p = FormatTest.write(text, "long.txt", in: dir)
        XCTAssertEqual(try lines(p), ["first", long, "short", long + "x"])
        let gp = dir.appendingPathComponent("long.gz").path
        let out = try OutputFile(gp); let g = try GzipWriter(out); try g.write(text); try g.finish(); try out.commit()
        XCTAssertEqual(try lines(gp), ["first", long, "short", long + "x"])
    }

    func testEveryBufferBoundary() throws {
        // Tiny buffers put the line breaks (and the CR of CRLF) at every possible position relative to refills.
        var text = ""
        var want: [String] = []
        for i in 0..<60 { let l = String(repeating: Character(UnicodeScalar(97 + i % 26)!), count: i % 13); want.append(l); text += l + (i % 3 == 0 ? "\r\n" : "\n") }
        let p = FormatTest.write(text, "b.txt", in: dir)
        for size in [0, 1, 2, 3, 5, 8, 64] { XCTAssertEqual(try lines(p, bufferSize: size), want, "buffer \(size)") }
    }

    func testNextStringValidatesUTF8AndDropsBOM() throws {
        let p = FormatTest.write([0xEF, 0xBB, 0xBF] + Array("barcode\tlabel\nGén\t\u{00e9}\n".utf8) + [0xff, 0xfe, 0x0a], "u.tsv", in: dir)
        let r = try LineReader(path: p)
        XCTAssertEqual(try r.nextString(), "barcode\tlabel", "BOM is not part of the first field")
        XCTAssertEqual(try r.nextString(), "Gén\té")
        assertPVError(exit: 65, "u.tsv:3: not valid UTF-8 text") { _ = try r.nextString() }
        // A BOM-like sequence later in the file is data.
        let q = FormatTest.write("a\n\u{FEFF}b\n", "v.tsv", in: dir)
        let s = try LineReader(path: q)
        _ = try s.nextString()
        XCTAssertEqual(try s.nextString(), "\u{FEFF}b")
    }
}
