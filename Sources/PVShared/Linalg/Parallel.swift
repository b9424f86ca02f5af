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

    /// Calls `body(i)` for i in 0..<count on up to `threads` threads (count ≤ threads: one part each), for work
    /// split into parts by the caller (e.g. label groups balanced by rows). Serial when one thread is allowed.
    public static func parts(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || threads <= 1 { for i in 0..<count { body(i) }; return }
        DispatchQueue.concurrentPerform(iterations: count) { body($0) }
    }

    /// Σ_{i<n} term(i) with the terms computed in parallel chunks and added in index order, so the result does not
    /// depend on the thread count. Scratch for the terms lives on the stack (no heap allocation for small n).
    public static func sum(_ n: Int, minChunk: Int = 1, _ term: (Int) -> Double) -> Double {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(n, 1)) { buf in
            let b = buf.baseAddress!
            chunks(n, minChunk: minChunk) { range in for i in range { b[i] = term(i) } }
            var t = 0.0
            for i in 0..<n { t += b[i] }
            return t
        }
    }
}
