import Foundation

/// One command-line option: `--name VALUE` (or a flag when `valueName` is nil), an optional short form, its help and default.
public struct OptionSpec {
    public let name: String
    public let short: Character?
    public let valueName: String?
    public let help: String
    public let defaultValue: String?
    public let repeatable: Bool

    public init(_ name: String, short: Character? = nil, value: String? = nil, default defaultValue: String? = nil,
                repeatable: Bool = false, help: String) {
        self.name = name; self.short = short; self.valueName = value; self.help = help
        self.defaultValue = defaultValue; self.repeatable = repeatable
    }

    /// A boolean switch.
    public static func flag(_ name: String, short: Character? = nil, help: String) -> OptionSpec {
        OptionSpec(name, short: short, value: nil, default: nil, help: help)
    }
}

/// The parsed command line of a tool. Every tool shares `-h/--help`, `--version`, `--threads` and `--quiet`.
/// Bad input raises `PVError.usage` (exit 64) with one line naming the option.
public struct Options {
    public let tool: String
    public let positionals: [String]
    private var values: [String: [String]] = [:]
    private let specs: [String: OptionSpec]

    /// Options every tool accepts, listed after the tool's own.
    public static let common: [OptionSpec] = [
        OptionSpec("threads", value: "N", default: "all cores", help: "threads for OpenBLAS and pv's own loops"),
        .flag("quiet", short: "q", help: "no progress or summary on stderr (warnings and errors still)"),
        .flag("help", short: "h", help: "print this help and exit"),
        .flag("version", help: "print the version and exit"),
    ]

    /// Parses `arguments` (without the program name). Prints help or version and exits 0 when asked.
    public init(tool: String, synopsis: String, description: String, specs toolSpecs: [OptionSpec],
                arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                positionals range: ClosedRange<Int> = 0...Int.max) throws {
        self.tool = tool
        let all = toolSpecs + Options.common
        var byName: [String: OptionSpec] = [:]
        var byShort: [Character: OptionSpec] = [:]
        for s in all { byName[s.name] = s; if let c = s.short { byShort[c] = s } }
        specs = byName
        var pos: [String] = []
        var i = 0
        var onlyPositionals = false
        while i < arguments.count {
            let a = arguments[i]; i += 1
            if onlyPositionals || a == "-" || !a.hasPrefix("-") { pos.append(a); continue }
            if a == "--" { onlyPositionals = true; continue }
            var spec: OptionSpec?
            var inline: String?
            if a.hasPrefix("--") {
                var n = String(a.dropFirst(2))
                if let eq = n.firstIndex(of: "=") { inline = String(n[n.index(after: eq)...]); n = String(n[..<eq]) }
                spec = byName[n]
                if spec == nil { throw PVError.usage("unknown option --\(n) (see \(tool) --help)") }
            } else {
                let body = a.dropFirst()
                guard let c = body.first, let s = byShort[c] else {
                    // A negative number given where a positional is expected.
                    if Double(a) != nil { pos.append(a); continue }
                    throw PVError.usage("unknown option \(a) (see \(tool) --help)")
                }
                spec = s
                if body.count > 1 { inline = String(body.dropFirst()) }
            }
            guard let s = spec else { continue }
            if s.valueName == nil {
                if inline != nil { throw PVError.usage("option --\(s.name) takes no value") }
                values[s.name, default: []].append("true")
            } else {
                var v: String
                if let inline { v = inline } else {
                    guard i < arguments.count else { throw PVError.usage("option --\(s.name) needs a value \(s.valueName!)") }
                    v = arguments[i]; i += 1
                }
                if s.repeatable { values[s.name, default: []].append(v) } else { values[s.name] = [v] }
            }
        }
        positionals = pos
        if values["help"] != nil {
            print(Options.helpText(tool: tool, synopsis: synopsis, description: description, specs: all))
            exit(0)
        }
        if values["version"] != nil { print("\(tool) \(pvVersion)"); exit(0) }
        if !range.contains(pos.count) {
            let (want, n) = range.lowerBound == range.upperBound ? ("\(range.lowerBound)", range.lowerBound) :
                range.upperBound == Int.max ? ("at least \(range.lowerBound)", range.lowerBound) :
                range.lowerBound == 0 ? ("at most \(range.upperBound)", range.upperBound) :
                ("\(range.lowerBound) to \(range.upperBound)", range.upperBound)
            throw PVError.usage("expected \(want) input argument\(n == 1 ? "" : "s"), got \(pos.count) (usage: \(synopsis))")
        }
        ToolContext.quiet = values["quiet"] != nil
        if let t = try intIfPresent("threads") {
            guard t >= 1 else { throw PVError.usage("--threads must be at least 1, got \(t)") }
            Parallel.threads = t
        }
        BLAS.setThreads(Parallel.threads)
    }

    /// The help page: synopsis, description, then every option with its value name and default.
    public static func helpText(tool: String, synopsis: String, description: String, specs: [OptionSpec]) -> String {
        var lines = ["Usage: \(synopsis)", "", description, "", "Options:"]
        for s in specs {
            var left = s.short.map { "-\($0), " } ?? "    "
            left += "--\(s.name)"
            if let v = s.valueName { left += " \(v)" }
            var right = s.help
            if let d = s.defaultValue { right += " [default: \(d)]" }
            if s.repeatable { right += " (repeatable)" }
            let pad = left.count < 28 ? String(repeating: " ", count: 28 - left.count) : "\n" + String(repeating: " ", count: 30)
            lines.append("  " + left + pad + right)
        }
        lines.append("")
        lines.append("Exit status: 0 success, 64 usage error, 65 bad input data, 66 missing input, 74 I/O error.")
        return lines.joined(separator: "\n")
    }

    private func spec(_ name: String) -> OptionSpec {
        guard let s = specs[name] else { fatalError("option --\(name) read but not declared") }
        return s
    }

    /// True when the flag was given.
    public func flag(_ name: String) -> Bool { _ = spec(name); return values[name] != nil }

    /// True when the option was given on the command line (not defaulted).
    public func given(_ name: String) -> Bool { values[name] != nil }

    /// The raw value, falling back to the declared default (nil when neither exists).
    public func string(_ name: String) -> String? {
        let s = spec(name)
        if let v = values[name]?.last { return v }
        return s.defaultValue
    }

    /// A required value; a usage error names the option when it is missing.
    public func required(_ name: String) throws -> String {
        guard let v = string(name), !v.isEmpty else { throw PVError.usage("option --\(name) is required (see \(tool) --help)") }
        return v
    }

    /// Every value of a repeatable option, in order.
    public func strings(_ name: String) -> [String] { _ = spec(name); return values[name] ?? [] }

    public func intIfPresent(_ name: String) throws -> Int? {
        guard let v = values[name]?.last else { return nil }
        return try Options.parseInt(v, option: name)
    }

    public func int(_ name: String) throws -> Int {
        guard let v = string(name) else { throw PVError.usage("option --\(name) is required") }
        return try Options.parseInt(v, option: name)
    }

    /// An integer no smaller than `lo`; a usage error names the option, the bound and the value.
    public func int(_ name: String, atLeast lo: Int) throws -> Int {
        let v = try int(name)
        guard v >= lo else { throw PVError.usage("--\(name) must be at least \(lo), got \(v)") }
        return v
    }

    public func double(_ name: String) throws -> Double {
        guard let v = string(name) else { throw PVError.usage("option --\(name) is required") }
        guard let d = Double(v), d.isFinite else { throw PVError.usage("option --\(name): expected a number, got '\(v)'") }
        return d
    }

    public func doubleIfPresent(_ name: String) throws -> Double? {
        guard string(name) != nil else { return nil }
        return try double(name)
    }

    /// One of a fixed set of words.
    public func choice(_ name: String, _ allowed: [String]) throws -> String {
        let v = try required(name)
        guard allowed.contains(v) else {
            throw PVError.usage("option --\(name): expected one of \(allowed.joined(separator: ", ")), got '\(v)'")
        }
        return v
    }

    static func parseInt(_ v: String, option: String) throws -> Int {
        if let i = Int(v) { return i }
        // Accept 1e4-style integers, common in scientific command lines.
        if let d = Double(v), d.isFinite, d == d.rounded(), abs(d) < 9e18 { return Int(d) }
        throw PVError.usage("option --\(option): expected an integer, got '\(v)'")
    }
}
