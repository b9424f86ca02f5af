import Foundation

/// pv's own parallelism (outside BLAS): a thread count and a chunked parallel for.
public enum Parallel {
    /// Threads for pv's loops and OpenBLAS; set by `--threads`, default all cores.
    nonisolated(unsafe) public static var threads = ProcessInfo.processInfo.activeProcessorCount

    /// Calls `body(range)` on disjoint chunks covering 0..<n, in parallel when more than one thread is allowed.
    /// Chunk boundaries depend only on n and the thread count, so results are deterministic for a thread count.
    public static func chunks(_ n: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let t = max(1, min(threads, (n + minChunk - 1) / max(minChunk, 1)))
        if t <= 1 || n == 0 { body(0..<n); return }
        let size = (n + t - 1) / t
        DispatchQueue.concurrentPerform(iterations: t) { i in
            let lo = i * size, hi = min(n, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }
}
