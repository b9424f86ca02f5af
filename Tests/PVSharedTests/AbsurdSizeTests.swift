import Foundation
import XCTest
import PVShared

/// Issue 10, item 1: options that size an allocation were unbounded: 11 crashes (SIGABRT in an allocation,
/// SIGSEGV from an overflowing size) and one run-away to 15 GB. Now every size is computed with overflow checks
/// and what cannot fit in memory is a usage error naming the option and the memory it would need.
final class AbsurdSizeTests: XCTestCase {
    nonisolated(unsafe) static var base: URL!
    var d: String { Self.base.path }

    override class func setUp() {
        base = TestSupport.tempDir("absurd")
        SmallPipeline.build(in: base.path)
        let d = base.path
        let r = try! TestSupport.run("pv-train", ["--init-only", "--latent-resp", "1", "--quiet", "--out", d + "/pvae.npz", d + "/norm/expr.npy", d + "/split.tsv"])
        precondition(r.status == 0, r.stderr)
    }
    override class func tearDown() { try? FileManager.default.removeItem(at: base) }

    func testCheckedSizeDetectsOverflowAndFormatsBytes() {
        XCTAssertEqual((CheckedSize(3) * 4 + 5).value, 17)
        XCTAssertNil((CheckedSize(Int.max) * 2).value)
        XCTAssertNil((CheckedSize(Int.max) + 1).value)
        XCTAssertNil((CheckedSize(1 << 32) * CheckedSize(1 << 31)).value, "2^63 overflows")
        XCTAssertEqual((CheckedSize(1 << 31) * CheckedSize(1 << 31)).value, 1 << 62)
        XCTAssertNil((CheckedSize(2) - 3).value)
        XCTAssertNil(CheckedSize(-1).value)
        XCTAssertTrue(CheckedSize.overflow.exceeds(Int.max - 1))
        XCTAssertEqual(MemoryBudget.format(512), "512 bytes")
        XCTAssertEqual(MemoryBudget.format(3 << 30), "3.00 GiB")
        XCTAssertEqual(MemoryBudget.format(25 << 40), "25.0 TiB")
        XCTAssertGreaterThan(MemoryBudget.limit, 1 << 26, "the machine's memory is read")
    }

    /// The estimate counts every parameter exactly: it must agree with the tensors a PerturbedVAE allocates.
    func testParameterCountEqualsTheModelsTensors() {
        for (h, dI, dN, u, dec) in [(16, 5, 3, "mlp", "mlp"), (7, 2, 1, "additive", "additive"), (32, 11, 6, "mlp", "additive")] {
            var c = PVConfig(genes: 23, targets: 9)
            c.hidden = h; c.latentInv = dI; c.latentResp = dN; c.nodeHidden = 4
            c.uCompose = UCompose(rawValue: u)!; c.decoder = DecoderKind(rawValue: dec)!
            let vae = PerturbedVAE(config: c, maxRows: 4)
            XCTAssertEqual(c.parameterCount.value, vae.store.count, "\(h) \(dI) \(dN) \(u) \(dec)")
            XCTAssertGreaterThan(c.memoryNeeded(rows: 4, parameterCopies: 2).value!, 2 * 4 * vae.store.count)
        }
    }

    /// Every command of the issue that crashed or ran away: exit 64, one line naming the option and the memory,
    /// no output and no temp file left.
    func testAbsurdSizesAreUsageErrorsNamingTheOption() throws {
        let inputs = [d + "/norm/expr.npy", d + "/split.tsv"]
        let cases: [(String, [String], String)] = [
            ("pv-train", ["--hidden", "10000000", "--out", d + "/o/m.npz"] + inputs, "--hidden 10000000"),
            ("pv-train", ["--latent-inv", "100000000", "--out", d + "/o/m.npz"] + inputs, "--latent-inv 100000000"),
            ("pv-train", ["--latent-resp", "1000000", "--out", d + "/o/m.npz"] + inputs, "--latent-resp 1000000"),
            ("pv-train", ["--hidden", "9223372036854775807", "--out", d + "/o/m.npz"] + inputs, "--hidden 9223372036854775807"),
            ("pv-predict", ["--cells-per-condition", "1000000000000", "--out", d + "/o"] + [d + "/add.npz"] + inputs, "--cells-per-condition 1000000000000"),
            ("pv-predict", ["--batch", "100000000000000", "--out", d + "/o"] + [d + "/pvae.npz"] + inputs, "--batch 100000000000000"),
            ("pv-score", ["--block-size", "1000000", "--pred", "a=\(d)/pred/pred.npy", "--out", d + "/o/s.tsv"] + inputs, "--block-size 1000000"),
            ("pv-simulate", ["--cells-per-condition", "9223372036854775807", "--out", d + "/o"], "--cells-per-condition 9223372036854775807"),
            ("pv-simulate", ["--genes", "100000000000", "--out", d + "/o"], "--genes 100000000000"),
            ("pv-simulate", ["--latent-resp", "10000000", "--out", d + "/o"], "--latent-resp 10000000"),
            ("pv-simulate", ["--targets", "100000000", "--doubles", "2", "--genes", "50", "--cells-per-condition", "1", "--out", d + "/o"], "--targets 100000000"),
            ("pv-simulate", ["--targets", "9000000000", "--out", d + "/o"], "--targets 9000000000"),
            ("pv-normalize", ["--n-bins", "1000000000000", "--out", d + "/o", d + "/sim"], "--n-bins 1000000000000"),
        ]
        for (tool, args, option) in cases {
            try? FileManager.default.removeItem(atPath: d + "/o")
            try FileManager.default.createDirectory(atPath: d + "/o", withIntermediateDirectories: true)
            let r = try TestSupport.run(tool, args + ["--quiet"])
            XCTAssertEqual(r.status, 64, "\(tool) \(option): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n").filter { !$0.contains("warning") }
            XCTAssertEqual(lines.count, 1, r.stderr)
            XCTAssertTrue((lines.first?.hasPrefix("\(tool): \(option) ") ?? false) && r.stderr.contains(" would need "), r.stderr)
            XCTAssertTrue(r.stderr.contains("of memory") && (r.stderr.contains("this machine has") || r.stderr.contains("limit")), r.stderr)
            XCTAssertEqual(TestSupport.files(in: URL(fileURLWithPath: d + "/o")), [], "\(tool) \(option) left files")
        }
        // A size the machine can hold is not refused (the estimate is a lower bound, not a guess on the high side).
        let ok = try TestSupport.run("pv-predict", ["--cells-per-condition", "3", "--quiet", "--out", d + "/o", d + "/add.npz"] + inputs)
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }

    /// The limit is the machine's memory (or a job's cgroup limit); PV_MEMORY_LIMIT lowers it, so a size that fits
    /// here is refused under 1 MiB: the check compares against the limit, not against fixed bounds.
    func testTheLimitIsTheMemoryAvailable() throws {
        let args = ["--genes", "2000", "--cells-per-condition", "500", "--quiet", "--out", d + "/lim"]
        let r = try TestSupport.run("pv-simulate", args, env: ["PV_MEMORY_LIMIT": "1048576"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("PV_MEMORY_LIMIT is 1.00 MiB"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--genes 2000") || r.stderr.contains("--cells-per-condition 500"), r.stderr)
    }
}
