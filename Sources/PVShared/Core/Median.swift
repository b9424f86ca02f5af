import Foundation

/// Small statistics shared by the stages.
public enum Stats {
    /// The median as numpy computes it: the middle value, or the mean of the two middle values in `T`'s own
    /// arithmetic (float32 for `Float`, as numpy on a float32 array); NaN for no values.
    public static func median<T: FloatingPoint>(_ xs: [T]) -> T {
        if xs.isEmpty { return .nan }
        let s = xs.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }
}
