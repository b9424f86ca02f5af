import XCTest
import PVShared

final class SmokeTests: XCTestCase {
    func testEveryToolAnswersVersionAndHelp() throws {
        for t in ["pv-normalize", "pv-split", "pv-train", "pv-predict", "pv-score", "pv-simulate", "pv-export", "pv-report"] {
            let v = try TestSupport.run(t, ["--version"])
            XCTAssertEqual(v.status, 0, t)
            // The second line names the BLAS and its kernels: never OpenBLAS's generic fallback on a CPU that has
            // the instructions of a family it knows (BLASKernels).
            let lines = v.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(lines.first.map(String.init), "\(t) \(pvVersion)")
            XCTAssertEqual(lines.count, 3, v.stdout)
            XCTAssertTrue(lines.count > 1 && lines[1].hasPrefix("OpenBLAS ") && lines[1].hasSuffix(" kernels"), v.stdout)
            if BLASKernels.replacement(core: "Prescott", flags: BLASKernels.cpuFlags()) != nil {
                XCTAssertFalse(v.stdout.contains("Prescott kernels"), "\(t) runs OpenBLAS's generic kernels: \(v.stdout)")
            }
            let h = try TestSupport.run(t, ["--help"])
            XCTAssertEqual(h.status, 0, t)
            XCTAssertTrue(h.stdout.contains("--threads N"), t)
            let bad = try TestSupport.run(t, ["--no-such-option"])
            XCTAssertEqual(bad.status, 64, t)
            XCTAssertEqual(bad.stderr, "\(t): unknown option --no-such-option (see \(t) --help)\n")
        }
    }
}

/// OpenBLAS's generic fallback is replaced by the kernel family whose instructions the CPU has, and nothing else is.
final class BLASKernelsTests: XCTestCase {
    func testFallbackIsReplacedByTheFamilyTheCPUCanRun() {
        let avx512: Set<Substring> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        XCTAssertEqual(BLASKernels.replacement(core: "Prescott", flags: avx512), "SkylakeX")
        XCTAssertEqual(BLASKernels.replacement(core: "Prescott", flags: ["sse3", "avx", "avx2", "fma", "avx512f"]), "Haswell",
                       "AVX-512 without BW/DQ/VL is not SkylakeX's")
        XCTAssertEqual(BLASKernels.replacement(core: "Prescott", flags: ["sse3", "avx", "avx2", "fma"]), "Haswell")
        XCTAssertNil(BLASKernels.replacement(core: "Prescott", flags: ["sse3", "avx", "avx2"]), "AVX2 without FMA")
        XCTAssertNil(BLASKernels.replacement(core: "Prescott", flags: []))
        XCTAssertNil(BLASKernels.replacement(core: "Haswell", flags: avx512), "a family OpenBLAS chose itself is kept")
        XCTAssertNil(BLASKernels.replacement(core: "Zen", flags: avx512))
    }

    /// The flags are read from /proc/cpuinfo: on x86-64 Linux they include SSE2, which every such CPU has.
    func testCPUFlagsAreRead() throws {
        #if arch(x86_64) && os(Linux)
        XCTAssertTrue(BLASKernels.cpuFlags().contains("sse2"))
        #else
        throw XCTSkip("x86-64 Linux only")
        #endif
    }
}
