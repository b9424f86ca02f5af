import Foundation

/// Deterministic pseudo-random numbers (xoshiro256**, seeded by splitmix64): the same seed gives the same
/// stream on every platform, which `--seed` promises.
public struct RNG {
    private var s0, s1, s2, s3: UInt64
    private var spareNormal: Float?

    public init(seed: UInt64) {
        var x = seed
        func next() -> UInt64 {
            x &+= 0x9e37_79b9_7f4a_7c15
            var z = x
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        s0 = next(); s1 = next(); s2 = next(); s3 = next()
    }

    /// An independent stream derived from this seed and a label, e.g. one per epoch or per purpose.
    public init(seed: UInt64, stream: UInt64) { self.init(seed: seed ^ (stream &* 0xd1b5_4a32_d192_ed03) &+ stream) }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<n (unbiased).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        let threshold = (0 &- bound) % bound
        while true {
            let r = next()
            if r >= threshold { return Int(r % bound) }
        }
    }

    /// Standard normal (Box–Muller, pairs cached).
    public mutating func normal() -> Float {
        if let s = spareNormal { spareNormal = nil; return s }
        var u = uniform()
        while u <= 0 { u = uniform() }
        let v = uniform()
        let r = (-2 * Foundation.log(u)).squareRoot()
        spareNormal = Float(r * sin(2 * Double.pi * v))
        return Float(r * cos(2 * Double.pi * v))
    }

    /// Fills a buffer with standard normals.
    public mutating func fillNormal(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { p[i] = normal() }
    }

    /// Fisher–Yates shuffle.
    public mutating func shuffle<T>(_ a: inout [T]) {
        if a.count < 2 { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, int(below: i + 1)) }
    }

    /// `k` distinct indices from 0..<n, in random order.
    public mutating func sample(_ n: Int, _ k: Int) -> [Int] {
        var idx = Array(0..<n); shuffle(&idx); return Array(idx.prefix(k))
    }
}
