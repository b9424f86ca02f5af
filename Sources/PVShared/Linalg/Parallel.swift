import Foundation
import Synchronization

/// pv's one thread pool: a thread count and a chunked parallel for. OpenBLAS runs on the calling thread; large
/// products are split by `BLAS.gemm` through `parts`.
public enum Parallel {
    /// Threads for pv's loops and matrix products; set by `--threads`, default all cores.
    nonisolated(unsafe) public static var threads = ProcessInfo.processInfo.activeProcessorCount

    /// Parallel regions running now (any thread). While one runs, `BLAS.gemm` runs products whole on their thread
    /// (the region already uses the threads); nested loops still split by the same fixed partition.
    static let regions = Atomic<Int>(0)
    /// Whether a parallel region is running (then `BLAS.gemm` does not split: its caller already uses the threads).
    public static var inRegion: Bool { regions.load(ordering: .relaxed) > 0 }

    @inline(__always) static func region(_ iterations: Int, _ body: (Int) -> Void) {
        regions.add(1, ordering: .relaxed)
        DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
        regions.subtract(1, ordering: .relaxed)
    }

    /// Calls `body(range)` on disjoint chunks covering 0..<n, in parallel when more than one thread is allowed.
    /// Chunk boundaries depend only on n and the thread count, so results are deterministic for a thread count.
    public static func chunks(_ n: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let t = max(1, min(threads, (n + minChunk - 1) / max(minChunk, 1)))
        if t <= 1 || n == 0 { body(0..<n); return }
        let size = (n + t - 1) / t
        region(t) { i in
            let lo = i * size, hi = min(n, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Calls `body(i)` for i in 0..<count on up to `threads` threads (count ≤ threads: one part each), for work
    /// split into parts by the caller (e.g. label groups balanced by rows). Serial when one thread is allowed.
    public static func parts(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || threads <= 1 { for i in 0..<count { body(i) }; return }
        region(count) { body($0) }
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

    /// The first error thrown by work on several threads (a parallel loop's body cannot throw): `record` runs a
    /// throwing call and keeps its error if it is the first; `rethrow` throws it once the loop is done.
    public final class FirstError: @unchecked Sendable {
        private let lock = NSLock()
        private var error: Error?
        public init() {}
        /// Whether an error has been recorded (later work may stop early).
        public var isSet: Bool { lock.lock(); defer { lock.unlock() }; return error != nil }
        public func record(_ body: () throws -> Void) {
            do { try body() } catch { lock.lock(); if self.error == nil { self.error = error }; lock.unlock() }
        }
        public func rethrow() throws {
            lock.lock(); let e = error; lock.unlock()
            if let e { throw e }
        }
    }
}
