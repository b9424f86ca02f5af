import Foundation
import XCTest
import PVShared

/// Multi-file outputs all or nothing (issue 10, item 2): a set is renamed into place only after every member is on
/// disk; a run killed between the renames leaves files whose run ids differ, and the readers refuse such a mix.
final class OutputSetTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = TestSupport.tempDir("oset") }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    private func text(_ p: String) -> String? {
        FileManager.default.contents(atPath: p).map { String(decoding: $0, as: UTF8.self) }
    }

    func testCommitPublishesAllAndAbandonNone() throws {
        let a = dir.appendingPathComponent("a.txt").path, b = dir.appendingPathComponent("b.txt").path
        _ = FormatTest.write("old a", "a.txt", in: dir)
        let set = OutputSet()
        try set.file(a).write("new a")
        try set.file(b).write("new b")
        XCTAssertEqual(text(a), "old a")
        try set.commit()
        XCTAssertEqual(text(a), "new a"); XCTAssertEqual(text(b), "new b")
        XCTAssertEqual(FormatTest.temps(in: dir), [])

        let again = OutputSet()
        try again.file(a).write("newer a")
        try again.file(b).write("newer b")
        again.abandon()
        XCTAssertEqual(text(a), "new a"); XCTAssertEqual(text(b), "new b")
        XCTAssertEqual(FormatTest.temps(in: dir), [])
    }

    func testTwoMembersWithOnePathAreAUsageError() throws {
        let a = dir.appendingPathComponent("x").path
        let set = OutputSet()
        _ = try set.file(a, label: "--out")
        assertPVError(exit: 64, "--out and --json name the same file") { _ = try set.file(a, label: "--json") }
        // Another spelling of the same path, and a hard link to an existing file.
        let set2 = OutputSet()
        _ = try set2.file(a)
        assertPVError(exit: 64, "same file") { _ = try set2.file(self.dir.path + "/./sub/../x") }
        let existing = FormatTest.write("e", "e.txt", in: dir)
        XCTAssertEqual(link(existing, dir.path + "/hard.txt"), 0)
        let set3 = OutputSet()
        _ = try set3.file(existing)
        assertPVError(exit: 64, "same file") { _ = try set3.file(self.dir.path + "/hard.txt") }
    }

    func testTempNamesAreUniqueWithinAProcess() throws {
        let p = dir.appendingPathComponent("o").path
        let f1 = try OutputFile(p), f2 = try OutputFile(p)
        try f1.write("one"); try f2.write("two")
        XCTAssertEqual(Set(FormatTest.temps(in: dir)).count, 2, "two temp files, not one shared")
        try f1.commit(); f2.abandon()
        XCTAssertEqual(text(p), "one")
    }

    /// A killed run's `.NAME.PID.tmp` is removed by the next successful write of NAME; a live process's stays.
    func testStaleTempFilesOfTheOutputAreRemoved() throws {
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run(); gone.waitUntilExit()
        let dead = gone.processIdentifier
        let stale = [".o.txt.\(dead).tmp", ".o.txt.\(dead).3.tmp"]
        for s in stale { _ = FormatTest.write("junk", s, in: dir) }
        let live = FormatTest.write("busy", ".o.txt.1.tmp", in: dir)  // pid 1 is always alive
        let other = FormatTest.write("other", ".p.txt.\(dead).tmp", in: dir)
        try writeFileAtomically(dir.appendingPathComponent("o.txt").path) { try $0.write("ok") }
        for s in stale { XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path + "/" + s), s) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: live), "a live process's temp file stays")
        XCTAssertTrue(FileManager.default.fileExists(atPath: other), "another output's temp file stays")
    }

    func testRunStampReadsEveryFormatAndRefusesAMix() throws {
        let id = "0123456789abcdef", other = "fedcba9876543210"
        let npy = FormatTest.write(NPYHeader(dtype: .float32, shape: [1, 1]).encoded(run: id) + [0, 0, 0, 0], "e.npy", in: dir)
        let tsv = FormatTest.write("# pv-x\n# run: \(id)\na\n1\n", "g.tsv", in: dir)
        let json = FormatTest.write("{\"a\": [\(String(repeating: "1,", count: 5000))1], \"run\": \"\(other)\"}", "s.json", in: dir)
        let mtx = FormatTest.write("%%MatrixMarket matrix coordinate integer general\n% run: \(other)\n1 1 0\n", "m.mtx", in: dir)
        let none = FormatTest.write("a\n1\n", "n.tsv", in: dir)
        XCTAssertEqual(RunStamp.read(npy), id); XCTAssertEqual(RunStamp.read(tsv), id)
        XCTAssertEqual(RunStamp.read(json), other); XCTAssertEqual(RunStamp.read(mtx), other)
        XCTAssertNil(RunStamp.read(none))
        XCTAssertNoThrow(try RunStamp.requireSameRun([npy, tsv, none, dir.path + "/missing"]))
        assertPVError(exit: 65, "written by another run", "mixed set") { try RunStamp.requireSameRun([npy, tsv, mtx]) }
        // NumPy reads the header with the run comment.
        if TestSupport.pythonWithNumpy != nil {
            let (st, out) = try TestSupport.python("import numpy as np; print(np.load('\(npy)').shape)")
            XCTAssertEqual(st, 0, out); XCTAssertTrue(out.contains("(1, 1)"), out)
        }
    }

    // MARK: SIGKILL between the renames of every multi-file writer

    private static let kill1 = ["PV_TEST_KILL_AFTER_RENAMES": "1"]

    private func ok(_ tool: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try TestSupport.run(tool, args)
        XCTAssertEqual(r.status, 0, "\(tool): \(r.stderr)", file: file, line: line)
        if r.status != 0 { throw XCTSkip("\(tool) failed") }
    }

    /// Runs `tool` killed right after its first rename; asserts it died by SIGKILL.
    private func killed(_ tool: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try TestSupport.run(tool, args, env: Self.kill1)
        XCTAssertEqual(r.status, SIGKILL, "\(tool) was killed between renames: \(r.stderr)", file: file, line: line)
    }

    private func refusesMix(_ tool: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try TestSupport.run(tool, args)
        XCTAssertEqual(r.status, 65, "\(tool) refuses a mixed set: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.hasPrefix(tool + ": ") && r.stderr.contains("written by another run"), r.stderr, file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, file: file, line: line)
    }

    func testEveryMultiFileWriterLeavesADetectableMixWhenKilledBetweenRenames() throws {
        let d = dir.path
        let sim = ["--genes", "40", "--targets", "3", "--doubles", "2", "--cells-per-condition", "25", "--quiet"]
        // pv-simulate: new matrix.mtx.gz beside the old cells.tsv.
        try ok("pv-simulate", sim + ["--seed", "1", "--out", d + "/sim"])
        try killed("pv-simulate", sim + ["--seed", "2", "--out", d + "/sim"])
        try refusesMix("pv-normalize", ["--labels", d + "/sim/cells.tsv", "--out", d + "/norm", d + "/sim"])
        try ok("pv-simulate", sim + ["--seed", "1", "--out", d + "/sim"])
        XCTAssertEqual(FormatTest.temps(in: dir.appendingPathComponent("sim")), [], "the rerun removed the killed run's temp files")

        // pv-normalize: new expr.npy beside the old genes.tsv and obs.tsv.
        try ok("pv-normalize", ["--labels", d + "/sim/cells.tsv", "--quiet", "--out", d + "/norm", d + "/sim"])
        try ok("pv-split", ["--seed", "1", "--out", d + "/split.tsv", d + "/norm/obs.tsv"])
        try ok("pv-train", ["--model", "additive", "--quiet", "--out", d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"])
        try ok("pv-predict", ["--seed", "1", "--quiet", "--out", d + "/pred", d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"])
        let score = ["--pred", "a=\(d)/pred/pred.npy", "--quiet", "--out", d + "/s/scores.tsv", "--json", d + "/s/scores.json",
                     d + "/norm/expr.npy", d + "/split.tsv"]
        try FileManager.default.createDirectory(atPath: d + "/s", withIntermediateDirectories: true)
        try ok("pv-score", score)
        XCTAssertNoThrow(try RunStamp.requireSameRun([d + "/s/scores.tsv", d + "/s/scores.json"]))

        // pv-predict: new pred.npy beside the old pred.tsv; pv-score refuses.
        try killed("pv-predict", ["--seed", "2", "--quiet", "--out", d + "/pred", d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"])
        try refusesMix("pv-score", score)
        try ok("pv-predict", ["--seed", "1", "--quiet", "--out", d + "/pred", d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"])
        XCTAssertEqual(FormatTest.temps(in: dir.appendingPathComponent("pred")), [])

        // pv-score: new scores.tsv beside the old scores.json. Another seed gives other scores (the ceiling's halves):
        // identical scores would carry one id, and a mix of identical files is no mix.
        try killed("pv-score", score + ["--seed", "3"])
        assertPVError(exit: 65, "written by another run") { try RunStamp.requireSameRun([d + "/s/scores.tsv", d + "/s/scores.json"]) }

        // pv-normalize last (the files above read its outputs): other options, killed after expr.npy.
        try killed("pv-normalize", ["--labels", d + "/sim/cells.tsv", "--n-top-genes", "10", "--quiet", "--out", d + "/norm", d + "/sim"])
        try refusesMix("pv-split", ["--seed", "1", "--out", d + "/split2.tsv", d + "/norm/obs.tsv"])
        try refusesMix("pv-train", ["--model", "additive", "--quiet", "--out", d + "/add2.npz", d + "/norm/expr.npy", d + "/split.tsv"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: d + "/split2.tsv"))
        try ok("pv-normalize", ["--labels", d + "/sim/cells.tsv", "--quiet", "--out", d + "/norm", d + "/sim"])
        XCTAssertEqual(FormatTest.temps(in: dir.appendingPathComponent("norm")), [])
        try ok("pv-split", ["--seed", "1", "--out", d + "/split2.tsv", d + "/norm/obs.tsv"])
    }

    /// Run ids were random for pv-predict and pv-score: two identical runs wrote different bytes (the id is in
    /// pred.npy's header), which broke `make test-cluster`'s byte comparison of a Slurm run and a local run.
    func testIdenticalRunsWriteIdenticalFilesAndOtherRunsOtherIds() throws {
        let d = dir.path
        let fm = FileManager.default
        try ok("pv-simulate", ["--genes", "30", "--targets", "3", "--doubles", "1", "--cells-per-condition", "20", "--quiet", "--seed", "4", "--out", d + "/sim"])
        try ok("pv-normalize", ["--labels", d + "/sim/cells.tsv", "--quiet", "--out", d + "/norm", d + "/sim"])
        try ok("pv-split", ["--seed", "1", "--out", d + "/split.tsv", d + "/norm/obs.tsv"])
        try ok("pv-train", ["--model", "additive", "--quiet", "--out", d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"])
        let inputs = [d + "/add.npz", d + "/norm/expr.npy", d + "/split.tsv"]
        let predFiles = ["pred.npy", "pred.tsv", "means.npy", "means.tsv"]
        func bytes(_ p: String) -> Data? { fm.contents(atPath: p) }

        // The same command twice: every file byte for byte.
        try ok("pv-predict", ["--seed", "1", "--quiet", "--out", d + "/p"] + inputs)
        let first = predFiles.map { bytes(d + "/p/" + $0) }
        try ok("pv-predict", ["--seed", "1", "--quiet", "--out", d + "/p"] + inputs)
        for (i, f) in predFiles.enumerated() { XCTAssertEqual(bytes(d + "/p/" + f), first[i], "\(f) of two identical runs") }
        let id = RunStamp.read(d + "/p/pred.npy")
        XCTAssertNotNil(id); XCTAssertNotEqual(id, RunStamp.pending)
        XCTAssertEqual(RunStamp.read(d + "/p/pred.tsv"), id)
        // Another folder (another command line): the arrays are still identical; another seed gives another id.
        try ok("pv-predict", ["--seed", "1", "--quiet", "--out", d + "/q"] + inputs)
        XCTAssertEqual(bytes(d + "/q/pred.npy"), first[0]); XCTAssertEqual(bytes(d + "/q/means.npy"), first[2])
        try ok("pv-predict", ["--seed", "2", "--quiet", "--out", d + "/r"] + inputs)
        XCTAssertNotNil(RunStamp.read(d + "/r/pred.npy"))
        XCTAssertNotEqual(RunStamp.read(d + "/r/pred.npy"), id)

        try fm.createDirectory(atPath: d + "/s", withIntermediateDirectories: true)
        let score = ["--pred", "a=\(d)/p/pred.npy", "--quiet", "--out", d + "/s/scores.tsv", "--json", d + "/s/scores.json",
                     "--de-out", d + "/s/de.tsv", d + "/norm/expr.npy", d + "/split.tsv"]
        try ok("pv-score", score)
        let scores = ["scores.tsv", "scores.json", "de.tsv"].map { bytes(d + "/s/" + $0) }
        try ok("pv-score", score)
        for (i, f) in ["scores.tsv", "scores.json", "de.tsv"].enumerated() { XCTAssertEqual(bytes(d + "/s/" + f), scores[i], f) }
        let sid = RunStamp.read(d + "/s/scores.json")
        XCTAssertNotNil(sid); XCTAssertNotEqual(sid, RunStamp.pending)
        XCTAssertNoThrow(try RunStamp.requireSameRun(["scores.tsv", "scores.json", "de.tsv"].map { d + "/s/" + $0 }))
        try ok("pv-score", score + ["--seed", "5"])
        XCTAssertNotEqual(RunStamp.read(d + "/s/scores.json"), sid, "other scores, another id")
    }

    /// `pv-score --out X --json X` wrote X and then failed; now it is a usage error and X is untouched.
    func testScoreRefusesOneFileForTwoOutputs() throws {
        let x = FormatTest.write("keep", "x", in: dir)
        let r = try TestSupport.run("pv-score", ["--pred", "a=\(dir.path)/p/pred.npy", "--out", x, "--json", x, dir.path + "/e.npy", dir.path + "/s.tsv"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("--out and --json"), r.stderr)
        XCTAssertEqual(text(x), "keep")
    }
}

extension OutputSetTests {
    /// `pv-predict --latents DIR/pred.tsv` would have replaced the predictions' table.
    func testPredictRefusesAnExtraOutputOverItsOwn() throws {
        let r = try TestSupport.run("pv-predict", ["--out", dir.path, "--latents", dir.path + "/pred.tsv", "m.npz", "e.npy", "s.tsv"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("--latents"), r.stderr)
    }
}

extension OutputSetTests {
    /// A folder output (a zarr store) removes what killed runs left of it too.
    func testFolderOutputRemovesStaleTempFolders() throws {
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run(); gone.waitUntilExit()
        let stale = dir.appendingPathComponent(".s.zarr.\(gone.processIdentifier).tmp")
        try FileManager.default.createDirectory(at: stale.appendingPathComponent("X"), withIntermediateDirectories: true)
        let f = try OutputFolder(dir.appendingPathComponent("s.zarr").path, kind: "zarr store") { _ in true }
        try f.write(".zgroup", Array("{}".utf8))
        try f.commit()
        XCTAssertEqual(TestSupport.files(in: dir), ["s.zarr"])
    }
}
