import Foundation

/// The parsed command line of a tool. Every tool shares `-h/--help`, `--version`, `--threads` and `--quiet`.
/// Every malformed, unknown or out-of-range option is reported at once in one `PVError.usage` (exit 64), one line
/// each; --help and --version throw `EarlyExit` with the text to print. Nothing here prints or exits.
public struct Options {
    public let tool: String
    public let positionals: [String]
    private var values: [String: [String]] = [:]
    private let specs: [String: any OptionDeclaration]

    public static let threads = Option<Int?>("threads", "N", default: nil, .atLeast(1), group: "Common",
                                             defaultText: "all cores", help: "threads for OpenBLAS and pv's own loops")
    public static let quiet = Option(flag: "quiet", short: "q", group: "Common",
                                     help: "no progress or summary on stderr (warnings and errors still)")
    public static let help = Option(flag: "help", short: "h", group: "Common", help: "print this help and exit")
    public static let version = Option(flag: "version", group: "Common", help: "print the version and exit")

    /// Options every tool accepts, listed after the tool's own.
    public static let common: [any OptionDeclaration] = [threads, quiet, help, version]

    /// Parses `arguments` (without the program name) against typed declarations, checks every value and the number
    /// of positionals, then applies --threads and --quiet.
    public init(tool: String, synopsis: String, description: String, options toolSpecs: [any OptionDeclaration],
                arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                positionals range: ClosedRange<Int> = 0...Int.max) throws {
        self.tool = tool
        let all = toolSpecs + Options.common
        var byName: [String: any OptionDeclaration] = [:]
        var byShort: [Character: any OptionDeclaration] = [:]
        for s in all {
            precondition(byName[s.name] == nil, "option --\(s.name) declared twice")
            byName[s.name] = s; if let c = s.short { byShort[c] = s }
        }
        specs = byName
        var errors = UsageErrors()
        var pos: [String] = []
        var i = 0
        var onlyPositionals = false
        while i < arguments.count {
            let a = arguments[i]; i += 1
            if onlyPositionals || a == "-" || !a.hasPrefix("-") { pos.append(a); continue }
            if a == "--" { onlyPositionals = true; continue }
            let spec: any OptionDeclaration
            var inline: String?
            if a.hasPrefix("--") {
                var n = String(a.dropFirst(2))
                if let eq = n.firstIndex(of: "=") { inline = String(n[n.index(after: eq)...]); n = String(n[..<eq]) }
                guard let s = byName[n] else { errors.add("unknown option --\(n) (see \(tool) --help)"); continue }
                spec = s
            } else {
                let body = a.dropFirst()
                guard let c = body.first, let s = byShort[c] else {
                    // A negative number given where a positional is expected.
                    if Double(a) != nil { pos.append(a); continue }
                    errors.add("unknown option \(a) (see \(tool) --help)"); continue
                }
                spec = s
                if body.count > 1 { inline = String(body.dropFirst()) }
            }
            guard let valueName = spec.valueName else {
                if inline != nil { errors.add("option --\(spec.name) takes no value"); continue }
                values[spec.name, default: []].append("true")
                continue
            }
            let v: String
            if let inline { v = inline } else {
                guard i < arguments.count else { errors.add("option --\(spec.name) needs a value \(valueName)"); continue }
                v = arguments[i]; i += 1
            }
            if let p = spec.problem(with: v) { errors.add(p) }
            if spec.repeatable { values[spec.name, default: []].append(v) } else { values[spec.name] = [v] }
        }
        positionals = pos
        if values["help"] != nil {
            throw EarlyExit(text: Options.helpText(tool: tool, synopsis: synopsis, description: description, specs: all))
        }
        if values["version"] != nil { throw EarlyExit(text: "\(tool) \(pvVersion)\n\(BLASKernels.versionLine)") }
        // A wrong count is often the echo of another mistake (the value of an unknown option), so it comes alone.
        if errors.messages.isEmpty && !range.contains(pos.count) {
            let (want, n) = range.lowerBound == range.upperBound ? ("\(range.lowerBound)", range.lowerBound) :
                range.upperBound == Int.max ? ("at least \(range.lowerBound)", range.lowerBound) :
                range.lowerBound == 0 ? ("at most \(range.upperBound)", range.upperBound) :
                ("\(range.lowerBound) to \(range.upperBound)", range.upperBound)
            errors.add("expected \(want) input argument\(n == 1 ? "" : "s"), got \(pos.count) (usage: \(synopsis))")
        }
        try errors.throwIfAny()
        ToolContext.quiet = values["quiet"] != nil
        if let t = self[Options.threads] { Parallel.threads = t }
    }

    // MARK: typed access

    /// The option's value: the last one given, or its declared default.
    public subscript<V>(_ option: Option<V>) -> V {
        guard let v = values[declared(option.name).name]?.last else { return option.defaultValue }
        return option.value(v)
    }

    /// The value of an option without a default that the run cannot do without; a usage error names it when missing.
    public func required<V>(_ option: Option<V?>) throws -> V {
        guard let v = self[option], (v as? String)?.isEmpty != true else {
            throw PVError.usage("option --\(option.name) is required (see \(tool) --help)")
        }
        return v
    }

    /// Every value of a repeatable option, in order.
    public func all<V>(_ option: Option<V>) -> [V] {
        (values[declared(option.name).name] ?? []).map(option.value)
    }

    /// True when the option was given on the command line (not defaulted).
    public func given(_ option: any OptionDeclaration) -> Bool { values[declared(option.name).name] != nil }

    /// Warns about the options given that the value of `mode` does not use (their `usedBy` leaves it out), so that
    /// nobody believes they had an effect: "--model mean does not use --rank, --steps; ignored".
    /// `value` is the mode in effect where it is not simply the option's value (pv-split's --custom implies custom).
    public func warnUnused<M: OptionValue>(by mode: Option<M>, value: M? = nil, among options: [any OptionDeclaration]) {
        guard let word = (value ?? self[mode]).optionText else { return }
        let unused = options.filter { o in o.usedBy.map { !$0.contains(word) } ?? false && given(o) }.map(\.name)
        if !unused.isEmpty {
            warn("--\(mode.name) \(word) does not use \(unused.sorted().map { "--" + $0 }.joined(separator: ", ")); ignored")
        }
    }

    // MARK: help

    /// The help page: synopsis, description, then the options by section, each with its value name and default,
    /// wrapped to `width` columns.
    public static func helpText(tool: String, synopsis: String, description: String, specs: [any OptionDeclaration],
                                width: Int = 100) -> String {
        var lines = wrap("Usage: \(synopsis)", width: width).enumerated().map { $0.offset == 0 ? $0.element : "       " + $0.element }
        lines.append("")
        lines += joinContinuations(description.components(separatedBy: "\n")).flatMap { wrap($0, width: width) }
        lines += ["", "Options:"]
        var groups: [String?] = []
        for s in specs where !groups.contains(where: { $0 == s.group }) { groups.append(s.group) }
        if let first = groups.first, first != nil, !groups.contains(where: { $0 == nil }) { groups.insert(nil, at: 0) }
        for g in groups {
            if let g { lines.append("\(g):") }
            for s in specs where s.group == g {
                var left = s.short.map { "-\($0), " } ?? "    "
                left += "--\(s.name)"
                if let v = s.valueName { left += " \(v)" }
                var right = s.help
                if let d = s.defaultText { right += " [default: \(d)]" }
                if s.repeatable { right += " (repeatable)" }
                let col = 30
                var first = "  " + left
                if first.count >= col {
                    lines.append(first); first = ""
                }
                let body = wrap(right, width: width - col)
                for (k, part) in body.enumerated() {
                    let prefix = k == 0 && !first.isEmpty ? first : ""
                    lines.append(prefix + String(repeating: " ", count: col - prefix.count) + part)
                }
            }
        }
        lines.append("")
        lines.append("Exit status: 0 success, 64 usage error, 65 bad input data, 66 missing input, 74 I/O error.")
        return lines.joined(separator: "\n")
    }

    /// Source lines of a description joined where a sentence goes on (the next line starts with a lowercase letter),
    /// so that `wrap` reflows them instead of leaving a short line wherever the source broke one.
    static func joinContinuations(_ source: [String]) -> [String] {
        var out: [String] = []
        for line in source {
            if let last = out.last, !last.isEmpty, line.first?.isLowercase == true {
                out[out.count - 1] = last + " " + line
            } else {
                out.append(line)
            }
        }
        return out
    }

    /// `text` broken at spaces into lines of at most `width` columns; continuation lines keep its indentation.
    static func wrap(_ text: String, width: Int) -> [String] {
        let indent = String(text.prefix { $0 == " " })
        var out: [String] = []
        var rest = Substring(text)
        // Break at the last space that fits (never inside the indentation); runs of spaces inside a line stay.
        while (out.isEmpty ? 0 : indent.count) + rest.count > width {
            let room = width - (out.isEmpty ? 0 : indent.count)
            let minCut = out.isEmpty ? indent.count + 1 : 1
            guard let cut = rest.prefix(room + 1).lastIndex(of: " "),
                  rest.distance(from: rest.startIndex, to: cut) >= minCut else { break }
            var line = rest[..<cut]
            while line.last == " " { line = line.dropLast() }
            out.append((out.isEmpty ? "" : indent) + line)
            rest = rest[cut...].drop { $0 == " " }
        }
        out.append((out.isEmpty ? "" : indent) + rest)
        return out
    }

    // MARK: lookup

    private func declared(_ name: String) -> any OptionDeclaration {
        guard let s = specs[name] else { fatalError("option --\(name) read but not declared") }
        return s
    }
}
