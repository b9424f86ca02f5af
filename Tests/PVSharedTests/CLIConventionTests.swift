import Foundation
import XCTest
import PVShared

/// DESIGN.md §4 conventions checked from the shell side, as a user meets them: `-` for stdin/stdout only where an
/// output can go there, usage errors before long work, nothing half-written. Uses a tiny simulated screen.
final class CLIConventionTests: XCTestCase {
    /// A tiny screen (pv-simulate + pv-normalize + pv-split) in a fresh folder: screen/, norm/expr.npy, split.tsv.
    private func smallScreen() throws -> URL {
        let d = TestSupport.tempDir("cli")
        let steps: [(String, [String])] = [
            ("pv-simulate", ["--cells-per-condition", "20", "--genes", "30", "--targets", "4", "--doubles", "2",
                             "--seed", "3", "--out", d.path + "/screen"]),
            ("pv-normalize", ["--labels", d.path + "/screen/cells.tsv", "--out", d.path + "/norm", d.path + "/screen"]),
            ("pv-split", ["--out", d.path + "/split.tsv", d.path + "/norm/obs.tsv"]),
        ]
        for (tool, args) in steps {
            let r = try TestSupport.run(tool, ["--quiet"] + args)
            XCTAssertEqual(r.status, 0, "\(tool): \(r.stderr)")
        }
        return d
    }

    private func entries(_ d: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: d.path)) ?? []).sorted()
    }

    /// Tools whose output is a folder cannot write to stdout: `--out -` is a usage error, not a folder named "-".
    func testFolderOutputsRejectDash() throws {
        let d = try smallScreen()
        let cases: [(String, [String])] = [
            ("pv-simulate", ["--genes", "5", "--targets", "2", "--doubles", "0", "--out", "-"]),
            ("pv-normalize", ["--labels", "screen/cells.tsv", "--out", "-", "screen"]),
            ("pv-predict", ["--out", "-", "model.npz", "norm/expr.npy", "split.tsv"]),
        ]
        let before = entries(d)
        for (tool, args) in cases {
            let r = try TestSupport.run(tool, args, cwd: d)
            XCTAssertEqual(r.status, 64, "\(tool) --out -: \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("\(tool): --out must be a folder"), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
            XCTAssertEqual(entries(d), before, "\(tool) left no folder named '-'")
        }
    }
}

extension CLIConventionTests {
    /// A missing output folder is reported before training starts, not after the whole run.
    func testTrainChecksOutputFolderBeforeTraining() throws {
        let d = try smallScreen()
        let r = try TestSupport.run("pv-train", ["--steps", "40", "--hidden", "16", "--out", "no-such-folder/model.npz",
                                                 "norm/expr.npy", "split.tsv"], cwd: d)
        XCTAssertEqual(r.status, 74, r.stderr)
        XCTAssertEqual(r.stderr, "pv-train: no-such-folder/model.npz: folder no-such-folder does not exist\n",
                       "one line, and no training progress before it")
    }

    /// Checkpoints are whole model files: with --out - they would be concatenated on stdout.
    func testTrainRejectsCheckpointsToStdout() throws {
        let d = try smallScreen()
        let r = try TestSupport.run("pv-train", ["--steps", "40", "--hidden", "16", "--checkpoint-every", "1", "--out", "-",
                                                 "norm/expr.npy", "split.tsv"], cwd: d)
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("pv-train: --checkpoint-every needs --out to be a file"), r.stderr)
        XCTAssertEqual(r.stdout, "", "nothing written to stdout")
    }
}

extension CLIConventionTests {
    /// Every pv-score output can go to stdout alone; the summary table is then not appended to it.
    func testScoreJSONAndDEToStdoutStayParseable() throws {
        let d = try smallScreen()
        for (tool, args) in [("pv-train", ["--model", "additive", "--out", "add.npz", "norm/expr.npy", "split.tsv"]),
                             ("pv-predict", ["--out", "pred", "add.npz", "norm/expr.npy", "split.tsv"])] {
            let r = try TestSupport.run(tool, ["-q"] + args, cwd: d)
            XCTAssertEqual(r.status, 0, "\(tool): \(r.stderr)")
        }
        let common = ["-q", "--pred", "add=pred/pred.npy", "norm/expr.npy", "split.tsv"]
        let j = try TestSupport.run("pv-score", ["--json", "-"] + common, cwd: d)
        XCTAssertEqual(j.status, 0, j.stderr)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)), "stdout is one JSON document")
        let de = try TestSupport.run("pv-score", ["--de-out", "-"] + common, cwd: d)
        XCTAssertEqual(de.status, 0, de.stderr)
        let rows = de.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertEqual(rows.first, "condition\tgenes")
        XCTAssertTrue(rows.allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 2 },
                      "only the DE table on stdout: \(de.stdout)")
        let both = try TestSupport.run("pv-score", ["--json", "-", "--out", "-"] + common, cwd: d)
        XCTAssertEqual(both.status, 64, both.stderr)
        XCTAssertEqual(both.stderr, "pv-score: only one output can go to stdout ('-'), not --out and --json\n")
        XCTAssertEqual(both.stdout, "")
    }
}

extension CLIConventionTests {
    /// `--out` naming a named pipe (as /dev/stdout or a FIFO from `mkfifo`) is written through, not replaced by a
    /// regular file renamed over it. (A FIFO stands in for /dev/null here, which the old behaviour would replace.)
    func testOutputToNamedPipeIsWrittenThrough() throws {
        let d = try smallScreen()
        let fifo = d.path + "/split.fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let fd = open(fifo, O_RDONLY | O_NONBLOCK)  // a reader, so the tool's open for writing does not block
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let r = try TestSupport.run("pv-split", ["-q", "--out", fifo, "norm/obs.tsv"], cwd: d)
        XCTAssertEqual(r.status, 0, r.stderr)
        var st = stat()
        XCTAssertEqual(lstat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO, "the pipe is still a pipe")
        var bytes = [UInt8](repeating: 0, count: 1 << 16)
        let n = read(fd, &bytes, bytes.count)
        let text = n > 0 ? String(decoding: bytes[0..<n], as: UTF8.self) : ""
        XCTAssertTrue(text.hasPrefix("# pv-split"), "the table came through the pipe: \(text.prefix(80))")
        XCTAssertTrue(text.contains("barcode\tlabel\tcondition\tset\tgroup\n"))
        XCTAssertFalse(entries(d).contains { $0.hasSuffix(".tmp") }, "no temporary left")
    }
}

extension CLIConventionTests {
    /// pv-train names the options the chosen --model ignores, and --help gives --rank's default.
    func testTrainWarnsAboutOptionsTheModelIgnores() throws {
        let d = try smallScreen()
        let r = try TestSupport.run("pv-train", ["--model", "mean", "--rank", "2", "--steps", "100", "--out", "m.npz",
                                                 "norm/expr.npy", "split.tsv"], cwd: d)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("pv-train: warning: --model mean does not use --rank, --steps; ignored"), r.stderr)
        let a = try TestSupport.run("pv-train", ["--model", "additive", "--rank", "2", "--out", "a.npz",
                                                 "norm/expr.npy", "split.tsv"], cwd: d)
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertFalse(a.stderr.contains("does not use"), a.stderr)
        let h = try TestSupport.run("pv-train", ["--help"])
        let rankLine = h.stdout.split(separator: "\n").first { $0.contains("--rank R") } ?? ""
        XCTAssertTrue(rankLine.contains("[default: "), "every option lists its default: \(rankLine)")
    }
}

extension CLIConventionTests {
    /// pv-split names the options of other schemes, which the chosen scheme ignores.
    func testSplitWarnsAboutOtherSchemesOptions() throws {
        let d = try smallScreen()
        let r = try TestSupport.run("pv-split", ["--val-frac", "0.3", "--holdout-cells", "2", "--out", "s.tsv", "norm/obs.tsv"], cwd: d)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("pv-split: warning: --scheme singles-to-doubles does not use --val-frac; ignored"), r.stderr)
        let g = try TestSupport.run("pv-split", ["--scheme", "random-cells", "--val-frac", "0.3", "--out", "s.tsv", "norm/obs.tsv"], cwd: d)
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertFalse(g.stderr.contains("does not use"), g.stderr)
    }
}

extension CLIConventionTests {
    /// The provenance command line can be pasted back into a shell: arguments with spaces or quotes are quoted.
    func testProvenanceCommandLineIsShellQuoted() throws {
        XCTAssertEqual(shellQuoted("norm/obs.tsv"), "norm/obs.tsv")
        XCTAssertEqual(shellQuoted("T01+T03,T02"), "T01+T03,T02")
        XCTAssertEqual(shellQuoted(""), "''")
        XCTAssertEqual(shellQuoted("non targeting"), "'non targeting'")
        XCTAssertEqual(shellQuoted("it's"), "'it'\\''s'")
        let d = try smallScreen()
        let r = try TestSupport.run("pv-split", ["-q", "--out", "split table.tsv", "norm/obs.tsv"], cwd: d)
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: d.path + "/split table.tsv", encoding: .utf8)
        let command = text.split(separator: "\n").first { $0.hasPrefix("# command: ") } ?? ""
        XCTAssertTrue(command.hasSuffix(" -q --out 'split table.tsv' norm/obs.tsv"), String(command))
    }
}

extension CLIConventionTests {
    /// Without --n-top-genes no gene is flagged highly_variable; --help says so rather than implying a selection.
    func testNormalizeHelpSaysWhenGenesAreFlagged() throws {
        let d = try smallScreen()
        let genes = try TSVTable(path: d.path + "/norm/genes.tsv")
        XCTAssertEqual(Set(try genes.values("highly_variable")), ["False"], "no --n-top-genes: nothing flagged")
        let h = try TestSupport.run("pv-normalize", ["--help"])
        let line = h.stdout.split(separator: "\n").first { $0.contains("--n-top-genes N") } ?? ""
        XCTAssertTrue(line.contains("highly_variable") && line.contains("none flagged"), String(line))
    }
}

extension CLIConventionTests {
    /// Text printed on stdout (pv-predict --list-targets, pv-score's summary) that cannot be written is exit 74.
    func testFullStdoutIsAnIOError() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full on this system") }
        let d = try smallScreen()
        let t = try TestSupport.run("pv-train", ["-q", "--model", "additive", "--out", "add.npz", "norm/expr.npy", "split.tsv"], cwd: d)
        XCTAssertEqual(t.status, 0, t.stderr)
        let p = Process()
        p.executableURL = TestSupport.binDir.appendingPathComponent("pv-predict")
        p.arguments = ["--list-targets", "add.npz"]
        p.currentDirectoryURL = d
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
        let err = Pipe()
        p.standardError = err
        try p.run()
        let msg = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 74, msg)
        XCTAssertEqual(msg, "pv-predict: <stdout>: write failed: No space left on device\n")
    }
}

extension CLIConventionTests {
    /// A misspelt --set is a usage error (64) naming the choices, not bad data (65).
    func testScoreSetIsAChoice() throws {
        let r = try TestSupport.run("pv-score", ["--set", "tset", "--pred", "a=pred.npy", "expr.npy", "split.tsv"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertEqual(r.stderr, "pv-score: option --set: expected one of test, val, train, got 'tset'\n")
    }
}

extension CLIConventionTests {
    /// pv-predict's two optional tables cannot both go to stdout (they would be concatenated).
    func testPredictRejectsTwoTablesOnStdout() throws {
        let r = try TestSupport.run("pv-predict", ["--latents", "-", "--graph", "-", "--out", "p", "model.npz", "expr.npy", "split.tsv"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertEqual(r.stderr, "pv-predict: only one output can go to stdout ('-'), not --latents and --graph\n")
    }
}

extension CLIConventionTests {
    /// --quiet keeps warnings (they say something is off with the data), and --help says so.
    func testQuietHelpMentionsWarnings() throws {
        let d = try smallScreen()
        let r = try TestSupport.run("pv-split", ["-q", "--out", "s.tsv", "norm/obs.tsv"], cwd: d)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("pv-split: warning: "), "a small screen warns even under -q: \(r.stderr)")
        let h = try TestSupport.run("pv-split", ["--help"])
        let line = h.stdout.split(separator: "\n").first { $0.contains("--quiet") } ?? ""
        XCTAssertTrue(line.contains("warnings and errors still"), String(line))
    }
}

extension CLIConventionTests {
    /// A short job logs one progress line (its final one) when stderr is not a terminal, not the same count twice.
    func testShortJobPrintsOneProgressLine() throws {
        let d = TestSupport.tempDir("cli")
        let r = try TestSupport.run("pv-simulate", ["--cells-per-condition", "10", "--genes", "20", "--targets", "3",
                                                    "--doubles", "1", "--out", d.path + "/s"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("pv-simulate: simulating ") }
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines.first?.hasPrefix("pv-simulate: simulating 50/50 cells") ?? false, r.stderr)
    }
}

extension CLIConventionTests {
    /// A regular file under /dev (e.g. /dev/shm on Linux) is still written atomically through a temporary.
    func testRegularFileUnderDevIsStillAtomic() throws {
        guard FileManager.default.isWritableFile(atPath: "/dev/shm") else { throw XCTSkip("no writable /dev/shm") }
        let path = "/dev/shm/pv-cli-\(UUID().uuidString).txt"
        defer { unlink(path) }
        let f = try OutputFile(path)
        try f.write("partial")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing at the target before commit")
        try f.commit()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "partial")
    }
}

extension CLIConventionTests {
    /// Every tool's --help fits 100 columns, lists the common options in their own section, and exits 0 on stdout.
    func testHelpOfEveryToolFitsOneHundredColumns() throws {
        for tool in ["pv-simulate", "pv-normalize", "pv-split", "pv-train", "pv-predict", "pv-score", "pv-export",
                     "pv-report"] {
            let r = try TestSupport.run(tool, ["--help"])
            XCTAssertEqual(r.status, 0, "\(tool): \(r.stderr)")
            XCTAssertEqual(r.stderr, "", tool)
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(lines.filter { $0.count > 100 }, [], "\(tool) --help is wider than 100 columns")
            XCTAssertTrue(lines.contains("Common:"), "\(tool): \(r.stdout)")
            // The description is reflowed: no short line whose sentence goes on in the next line (a break left
            // where the source broke it), e.g. "...are skipped with a" / "warning), or --conditions".
            let description = lines.prefix { $0 != "Options:" }
            for (a, b) in zip(description, description.dropFirst()) where b.first?.isLowercase == true {
                XCTAssertGreaterThan(a.count + 1 + b.prefix { $0 != " " }.count, 100, "\(tool): '\(a)' / '\(b)'")
            }
        }
    }

    /// Every option error of a command line is named, one line each, before anything runs.
    func testEveryOptionErrorIsReported() throws {
        let r = try TestSupport.run("pv-simulate", ["--genes", "0", "--edge-density", "2", "--nope", "--out", "x"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertEqual(r.stderr, """
            pv-simulate: --genes must be at least 1, got 0
            pv-simulate: --edge-density must be 0 to 1, got 2
            pv-simulate: unknown option --nope (see pv-simulate --help)

            """)
        let s = try TestSupport.run("pv-split", ["--val-frac", "0.7", "--test-frac", "0.5", "--scheme", "random-cells",
                                                 "--seed", "-1", "--out", "s.tsv", "obs.tsv"])
        XCTAssertEqual(s.status, 64, s.stderr)
        XCTAssertEqual(s.stderr, "pv-split: --seed must be at least 0, got -1\n", "bounds first, then the settings' checks")
    }
}
