import Foundation
import XCTest
import PVShared

/// Atomic outputs: temp file beside the target, renamed on commit, removed on abandon or failure.
final class OutputFileTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("out") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    private func text(_ p: String) -> String? {
        FileManager.default.contents(atPath: p).map { String(decoding: $0, as: UTF8.self) }
    }

    func testCommitRenamesIntoPlace() throws {
        let p = dir.appendingPathComponent("o.txt").path
        let out = try OutputFile(p)
        try out.write("hello ")
        try out.write(Array("world".utf8))
        XCTAssertNil(text(p), "nothing at the target before commit")
        let temps = FormatTest.temps(in: dir)
        XCTAssertEqual(temps.count, 1)
        XCTAssertTrue(temps[0].hasPrefix(".o.txt."), "temp is hidden and beside the target: \(temps)")
        try out.commit()
        XCTAssertEqual(text(p), "hello world")
        XCTAssertEqual(TestSupport.files(in: dir), ["o.txt"])
        assertPVError(exit: 74, "write after the file was closed") { try out.write("more") }
        XCTAssertEqual(text(p), "hello world")
    }

    func testReplacesExistingFileOnlyAtCommit() throws {
        let p = FormatTest.write("old", "o.txt", in: dir)
        let reader = try XCTUnwrap(FileHandle(forReadingAtPath: p))
        let out = try OutputFile(p)
        try out.write("new contents")
        XCTAssertEqual(text(p), "old", "target untouched while writing")
        try out.commit()
        XCTAssertEqual(text(p), "new contents")
        // Rename, not rewrite in place: a reader of the old file still sees the old bytes.
        XCTAssertEqual(String(decoding: reader.readDataToEndOfFile(), as: UTF8.self), "old")
        XCTAssertEqual(TestSupport.files(in: dir), ["o.txt"])
    }

    func testAbandonLeavesNothingAndKeepsExistingTarget() throws {
        let p = dir.appendingPathComponent("a.txt").path
        let out = try OutputFile(p)
        try out.write("partial")
        out.abandon()
        XCTAssertEqual(TestSupport.files(in: dir), [])
        let q = FormatTest.write("keep me", "b.txt", in: dir)
        let out2 = try OutputFile(q)
        try out2.write("half-written")
        out2.abandon()
        XCTAssertEqual(text(q), "keep me")
        XCTAssertEqual(TestSupport.files(in: dir), ["b.txt"])
    }

    func testDroppedWithoutCommitIsRemoved() throws {
        let p = dir.appendingPathComponent("d.txt").path
        do { let out = try OutputFile(p); try out.write("x") }
        XCTAssertEqual(TestSupport.files(in: dir), [])
    }

    func testWriteFileAtomicallyOnError() throws {
        let p = FormatTest.write("original", "w.txt", in: dir)
        struct Boom: Error {}
        XCTAssertThrowsError(try writeFileAtomically(p) { out in try out.write("partial"); throw Boom() }) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(text(p), "original")
        XCTAssertEqual(TestSupport.files(in: dir), ["w.txt"])
        let q = dir.appendingPathComponent("new.txt").path
        XCTAssertThrowsError(try writeFileAtomically(q) { _ in throw Boom() })
        XCTAssertEqual(TestSupport.files(in: dir), ["w.txt"])
        try writeFileAtomically(q) { try $0.write("ok") }
        XCTAssertEqual(text(q), "ok")
    }

    func testMissingFolderIsIOError() {
        let p = dir.appendingPathComponent("no/such/dir/o.npy").path
        let e = assertPVError(exit: 74, "o.npy: folder", "does not exist") { _ = try OutputFile(p) }
        if case .io? = e {} else { XCTFail("expected .io") }
        assertPVError(exit: 74, "does not exist") { try writeNPY(p, [1, 2], shape: [2]) }
        let f = FormatTest.write("a file", "plain", in: dir)
        assertPVError(exit: 74, "does not exist") { _ = try OutputFile(f + "/o.txt") }
        XCTAssertEqual(TestSupport.files(in: dir), ["plain"])
    }

    func testTargetIsAFolder() throws {
        let sub = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(at: sub.appendingPathComponent("x"), withIntermediateDirectories: false)
        let out = try OutputFile(sub.path)
        try out.write("data")
        assertPVError(exit: 74, "cannot rename into place: Is a directory") { try out.commit() }
        XCTAssertEqual(TestSupport.files(in: dir), ["sub"])
    }

    func testPendingOutputsRemovedOnFailure() throws {
        // What runTool does when a tool throws: every temp not yet committed goes.
        let a = try OutputFile(dir.appendingPathComponent("a.npy").path)
        let b = try OutputFile(dir.appendingPathComponent("b.tsv").path)
        try a.write("1"); try b.write("2")
        XCTAssertEqual(FormatTest.temps(in: dir).count, 2)
        PendingOutputs.removeAll()
        XCTAssertEqual(TestSupport.files(in: dir), [])
        a.abandon(); b.abandon()
    }

    func testEnsureDirectory() throws {
        let d = dir.appendingPathComponent("x/y/z").path
        try ensureDirectory(d)
        try ensureDirectory(d)
        var isDir: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: d, isDirectory: &isDir) && isDir.boolValue)
        let f = FormatTest.write("f", "file", in: dir)
        assertPVError(exit: 74, "cannot create folder") { try ensureDirectory(f + "/sub") }
    }
}

extension OutputFileTests {
    /// appendRegion's bytes follow what is written; pieces written at their offsets from several threads, in any
    /// order, make the region, and later writes go after it: the file is the exact concatenation.
    func testAppendRegionTakesPiecesFromThreadsAtTheirPlace() throws {
        let p = dir.appendingPathComponent("m.bin").path
        let out = try OutputFile(p)
        let head = [UInt8]((0..<100).map { UInt8($0) })
        try out.write(head)
        let count = 3 * 4096 + 77, piece = 1000
        func byte(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
        let region = try XCTUnwrap(try out.appendRegion(count: count), "a regular temp file takes a region")
        XCTAssertEqual(region.count, count)
        let pieces = (count + piece - 1) / piece
        let failure = Parallel.FirstError()
        DispatchQueue.concurrentPerform(iterations: pieces) { k in
            let i = pieces - 1 - k  // last piece first
            let lo = i * piece, n = min(piece, count - lo)
            let bytes = (lo..<lo + n).map(byte)
            failure.record { try bytes.withUnsafeBytes { try region.write($0, at: lo) } }
        }
        try failure.rethrow()
        try out.endRegion()
        try out.write("END")
        try out.commit()
        let got = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        XCTAssertEqual(got, head + (0..<count).map(byte) + Array("END".utf8))
        XCTAssertEqual(TestSupport.files(in: dir), ["m.bin"], "no temporary left")
    }

    /// A stream has no places: appendRegion says so (nil), and the caller writes in order instead.
    func testAppendRegionDeclinesStreams() throws {
        let out = try OutputFile("/dev/null")
        XCTAssertNil(try out.appendRegion(count: 10))
        try out.commit()
    }

    /// An abandoned output with a region leaves nothing behind.
    func testAppendRegionThenAbandonLeavesNothing() throws {
        let p = dir.appendingPathComponent("a.bin").path
        let out = try OutputFile(p)
        let region = try XCTUnwrap(try out.appendRegion(count: 8192))
        try [UInt8](repeating: 1, count: 8192).withUnsafeBytes { try region.write($0, at: 0) }
        out.abandon()
        XCTAssertEqual(TestSupport.files(in: dir), [])
    }
}
