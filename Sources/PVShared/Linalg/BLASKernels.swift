import COpenBLAS
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which of OpenBLAS's kernels run, and the correction pv makes when OpenBLAS does not know the CPU.
///
/// OpenBLAS picks its kernels once, when it is loaded, from the CPU's family and model numbers. A release older than
/// the CPU (Debian 12's 0.3.21 on Intel's Emerald Rapids, model 207, say) knows neither and falls back to its generic
/// SSE3 kernels ("Prescott"): sgemm ran at 21–26 GFLOP/s instead of ~140 on one core, and a PerturbedVAE training
/// step 3.6–4.5 times slower (bench/train/README.md). OpenBLAS honours `OPENBLAS_CORETYPE`, but only when it is
/// loaded, which is before any of pv's code runs; so a tool that finds the fallback on a CPU with the instructions of
/// a kernel family OpenBLAS has restarts itself once with that variable set (`restartWithKnownKernelsIfNeeded`). A
/// variable set by the user is left alone.
public enum BLASKernels {
    /// The kernels OpenBLAS runs now, by its name for them ("SkylakeX", "Haswell", "Prescott", ...).
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// OpenBLAS's version and build ("OpenBLAS 0.3.21 DYNAMIC_ARCH ...").
    public static var config: String { openblas_get_config().map { String(cString: $0) } ?? "OpenBLAS" }

    /// One line for `--version`: the library, its version and the kernels in use.
    public static var versionLine: String {
        let words = config.split(separator: " ")
        let version = words.count > 1 && words[0] == "OpenBLAS" ? " " + words[1] : ""
        return "OpenBLAS\(version), \(coreName) kernels"
    }

    /// The OpenBLAS kernel family for a CPU with these feature flags (as /proc/cpuinfo spells them), when OpenBLAS
    /// fell back to its generic kernels: "SkylakeX" for AVX-512 (F, CD, BW, DQ, VL), "Haswell" for AVX2 with FMA;
    /// nil when OpenBLAS chose a specific family itself, or the CPU has neither.
    public static func replacement(core: String, flags: Set<Substring>) -> String? {
        guard core == "Prescott" else { return nil }
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// The `flags` of the first processor in /proc/cpuinfo (empty where there is none). The kernel lists AVX-512
    /// only where the operating system saves its registers, so a listed flag can be used.
    public static func cpuFlags() -> Set<Substring> {
        guard let f = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0, let l = line {
            let s = String(cString: l)
            if s.hasPrefix("flags"), let colon = s.firstIndex(of: ":") {
                return Set(s[s.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }))
            }
        }
        return []
    }

    /// Restarts this process (same executable, arguments, descriptors) with `OPENBLAS_CORETYPE` set when OpenBLAS
    /// fell back to its generic kernels on a CPU that has the instructions of a family it knows; returns otherwise
    /// (also when the restart fails: the run goes on, slower). To be called first thing, before any input is read.
    public static func restartWithKnownKernelsIfNeeded() {
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let core = replacement(core: coreName, flags: cpuFlags()) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
    }
}
