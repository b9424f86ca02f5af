import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A count of elements or bytes computed with overflow checks: `nil` once a product or sum overflowed `Int`, which
/// is certainly more than any machine has. Sizes derived from options are built from these, never with plain `*`
/// (release builds are -Ounchecked: an overflowing product wraps silently into a small or negative size).
public struct CheckedSize: ExpressibleByIntegerLiteral, CustomStringConvertible {
    public let value: Int?
    public init(_ n: Int) { value = n >= 0 ? n : nil }
    public init(integerLiteral n: Int) { self.init(n) }
    private init(overflow: Void) { value = nil }
    public static let overflow = CheckedSize(overflow: ())

    public static func * (a: CheckedSize, b: CheckedSize) -> CheckedSize {
        guard let x = a.value, let y = b.value else { return .overflow }
        let (r, o) = x.multipliedReportingOverflow(by: y)
        return o ? .overflow : CheckedSize(r)
    }
    public static func + (a: CheckedSize, b: CheckedSize) -> CheckedSize {
        guard let x = a.value, let y = b.value else { return .overflow }
        let (r, o) = x.addingReportingOverflow(y)
        return o ? .overflow : CheckedSize(r)
    }
    public static func - (a: CheckedSize, b: CheckedSize) -> CheckedSize {
        guard let x = a.value, let y = b.value, x >= y else { return .overflow }
        return CheckedSize(x - y)
    }
    public static func / (a: CheckedSize, b: Int) -> CheckedSize { a.value.map { CheckedSize($0 / max(b, 1)) } ?? .overflow }

    /// Whether this is more than `other` (an overflow is more than anything).
    public func exceeds(_ other: Int) -> Bool { value.map { $0 > other } ?? true }

    public var description: String { value.map { MemoryBudget.format($0) } ?? "more than 8 EiB (overflow)" }
}

/// How much memory a tool may plan to use, and the refusal of options that need more: an absurd `--hidden`,
/// `--cells-per-condition` or `--block-size` crashed with SIGABRT/SIGSEGV in an allocation (or in an overflowing size
/// computation), or ran away into swap. Tools estimate what their options make them allocate (a lower bound: the
/// big buffers) and call `require` before allocating anything.
public enum MemoryBudget {
    /// Physical memory of the machine (sysconf, else /proc/meminfo), lowered to the cgroup limit when one is set
    /// (a container, a Slurm job's --mem). `PV_MEMORY_LIMIT=BYTES` overrides it (tests).
    public static let limit: Int = {
        if let s = ProcessInfo.processInfo.environment["PV_MEMORY_LIMIT"], let v = Int(s), v > 0 { return v }
        return min(physical ?? Int.max, cgroupLimit ?? Int.max)
    }()

    /// What `limit` is, for messages.
    static var limitDescription: String {
        if ProcessInfo.processInfo.environment["PV_MEMORY_LIMIT"].flatMap({ Int($0) }) != nil { return "PV_MEMORY_LIMIT is \(format(limit))" }
        if let c = cgroupLimit, c < (physical ?? Int.max) { return "this job's memory limit is \(format(c))" }
        return "this machine has \(format(limit))"
    }

    static let physical: Int? = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        if pages > 0 && size > 0 {
            let (r, o) = pages.multipliedReportingOverflow(by: size)
            if !o { return r }
        }
        // MemTotal:       24576000 kB
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb.multipliedReportingOverflow(by: 1024).overflow ? nil : kb * 1024
    }()

    /// cgroup v2 `memory.max`, or v1 `memory.limit_in_bytes`; nil when unlimited or unreadable.
    static let cgroupLimit: Int? = {
        for p in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let s = try? String(contentsOfFile: p, encoding: .utf8),
               let v = Int(s.trimmingCharacters(in: .whitespacesAndNewlines)), v > 0, v < (1 << 60) { return v }
        }
        return nil
    }()

    /// Throws a usage error (exit 64) naming `what` (the options as given, e.g. "--hidden 10000000") and the
    /// memory `need` when it exceeds `limit`.
    public static func require(_ need: CheckedSize, for what: String) throws {
        guard need.exceeds(limit) else { return }
        let amount = need.value.map { format($0) + " of memory" } ?? "more than 8 EiB of memory (its size overflows a 64-bit count)"
        throw PVError.usage("\(what) would need \(amount); \(limitDescription)")
    }

    /// `require` for an estimate over several sizing options: `options` are (flag, value, default) and
    /// `estimate` maps their values to the memory needed. The message names the option whose default would lower
    /// the estimate most, or every option not at its default when none alone explains it.
    public static func require(_ options: [(flag: String, value: Int, default: Int)], _ estimate: ([Int]) -> CheckedSize) throws {
        let values = options.map(\.value)
        let need = estimate(values)
        guard need.exceeds(limit) else { return }
        var blamed: [Int] = []
        var best: CheckedSize?
        for i in options.indices where options[i].value != options[i].default {
            var v = values; v[i] = options[i].default
            let n = estimate(v)
            if best == nil || (n.value ?? Int.max) < (best!.value ?? Int.max) { best = n; blamed = [i] }
        }
        if let b = best, b.exceeds(limit) { blamed = options.indices.filter { options[$0].value != options[$0].default } }
        let what = blamed.isEmpty ? "these options" : blamed.map { "\(options[$0].flag) \(options[$0].value)" }.joined(separator: " with ")
        try require(need, for: what)
    }

    /// Bytes in binary units, 3 significant digits ("23.4 GiB").
    public static func format(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = Double(bytes), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(bytes) bytes" : String(format: v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v) + " " + units[u]
    }
}
