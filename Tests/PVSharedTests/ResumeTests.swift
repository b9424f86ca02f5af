import Foundation
import XCTest
import PVShared

/// Issue 10, minor items on --resume: the checkpoint's best validation loss went through JSON and lost bits
/// (meta.selected.val of a resumed run differed from the uninterrupted run's in the last digits), and --resume of a
/// finished run failed with "not a pv-train checkpoint" although a scheduler restarting every job with --resume
/// must see success.
final class ResumeTests: XCTestCase {
    var dir: URL!, expr = "", split = ""
    override func setUp() {
        (dir, expr, split) = try! ModelRobustnessTests.screenDir()
    }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// meta.json's `"selected" : {...}` as written (the text, not a parsed and rounded value).
    private func selectedText(_ path: String) throws -> String {
        let meta = String(decoding: try NPZ(path: path).raw("meta.json") ?? [], as: UTF8.self)
        guard let r = meta.range(of: #""selected" : \{[^}]*\}"#, options: .regularExpression) else {
            XCTFail("no selected entry in \(path)"); return ""
        }
        return String(meta[r])
    }

    func testResumedRunSelectsWithTheExactBestValidationLoss() throws {
        let epochs = 6
        var checked = 0
        for seed in 1...8 where checked < 3 {
            let args = ModelTrainTests.small + ["--epochs", "\(epochs)", "--checkpoint-every", "1", "--seed", "\(seed)", "-q", expr, split]
            let full = dir.appendingPathComponent("full\(seed).npz").path, part = dir.appendingPathComponent("part\(seed).npz").path
            let f = try TestSupport.run("pv-train", args + ["--out", full])
            XCTAssertEqual(f.status, 0, f.stderr)
            let sel = try ModelFile(path: full).meta["selected"] as? [String: Any]
            guard (sel?["by"] as? String) == "val", let best = sel?["epoch"] as? Int else { return XCTFail("no selection on val: \(String(describing: sel))") }
            // Only a run whose best epoch comes before the interruption takes its selected loss from the checkpoint.
            guard best < epochs else { continue }
            checked += 1
            XCTAssertEqual(try TestSupport.run("pv-train", args + ["--out", part, "--stop-after-epoch", "\(best)"]).status, 0)
            let ck = try ModelFile(path: part)
            XCTAssertEqual(ck.float64("train.best_val")?.count, 1, "the best loss is stored as a float64 tensor")
            let r = try TestSupport.run("pv-train", args + ["--out", part, "--resume", part])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try selectedText(part), try selectedText(full), "seed \(seed): selection after --resume")
        }
        XCTAssertGreaterThan(checked, 0, "no seed selected an epoch before the last; make the check another way")
    }

    /// Training does not depend on --threads (every parallel loop and product splits by a fixed partition and adds
    /// in a fixed order): a run checkpointed on two threads and resumed on one gives the weights of the
    /// uninterrupted two-thread run, bit for bit, and so does a one-thread run. 600 genes, so that rows and
    /// products do split on two threads.
    func testTrainingIsTheSameOnOneAndTwoThreads() throws {
        let d = TestSupport.tempDir("threads")
        try TinyScreen(genes: 600, targets: 4, cells: 80, controls: 200, seed: 5).write(to: d)
        let x = d.appendingPathComponent("expr.npy").path, sp = d.appendingPathComponent("split.tsv").path
        let args = ["--hidden", "64", "--latent-inv", "4", "--latent-resp", "2", "--epochs", "3", "--ensemble", "1",
                    "--checkpoint-every", "1", "--seed", "3", "-q", x, sp]
        func run(_ out: String, _ extra: [String]) throws -> ToolResult {
            let r = try TestSupport.run("pv-train", args + extra + ["--out", d.appendingPathComponent(out).path])
            XCTAssertEqual(r.status, 0, r.stderr)
            return r
        }
        _ = try run("two.npz", ["--threads", "2"])
        _ = try run("one.npz", ["--threads", "1"])
        _ = try run("part.npz", ["--threads", "2", "--stop-after-epoch", "1"])
        let resumed = try run("part.npz", ["--threads", "1", "--resume", d.appendingPathComponent("part.npz").path])
        XCTAssertFalse(resumed.stderr.contains("bit-identical"), resumed.stderr)
        let two = try ModelFile(path: d.appendingPathComponent("two.npz").path)
        for other in ["one.npz", "part.npz"] {
            let m = try ModelFile(path: d.appendingPathComponent(other).path)
            XCTAssertEqual(Set(m.tensorNames), Set(two.tensorNames))
            for n in two.tensorNames { XCTAssertEqual(try m.tensor(n), try two.tensor(n), "\(other): \(n)") }
        }
    }

    func testResumeOfAFinishedRunIsAlreadyComplete() throws {
        let args = ModelTrainTests.small + ["--epochs", "3", "--checkpoint-every", "1", "--seed", "2", expr, split]
        let out = dir.appendingPathComponent("m.npz").path
        XCTAssertEqual(try TestSupport.run("pv-train", args + ["--out", out, "-q"]).status, 0)
        let before = FormatTest.read(out)
        let again = try TestSupport.run("pv-train", args + ["--out", out, "--resume", out])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("already complete"), again.stderr)
        XCTAssertEqual(FormatTest.read(out), before, "the finished model is left as it was")
        // Into another file: the finished model is the result.
        let other = dir.appendingPathComponent("copy.npz").path
        let c = try TestSupport.run("pv-train", args + ["--out", other, "--resume", out, "-q"])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertEqual(FormatTest.read(other), before)
        // Other options than the finished run's are still refused.
        let bad = try TestSupport.run("pv-train", ModelTrainTests.small + ["--epochs", "4", "--checkpoint-every", "1", "--seed", "2",
                                                                             "--out", other, "--resume", out, expr, split])
        XCTAssertEqual(bad.status, 64, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("the checkpoint was made with epochs = 3, this run has 4"), bad.stderr)
    }
}
