import Foundation

/// Writes one line to standard error (diagnostics, warnings, progress never go to stdout).
public func printErr(_ s: String, terminator: String = "\n") {
    FileHandle.standardError.write((s + terminator).data(using: .utf8)!)
}

/// Prints a warning prefixed with the tool name.
public func warn(_ s: String) { printErr("\(ToolContext.name): warning: \(sanitizedMessage(s))") }

/// Process-wide facts about the running tool: its name and full command line (for messages and provenance).
public enum ToolContext {
    nonisolated(unsafe) public static var name = "pv"
    /// Shell-quoted where needed, so that the provenance line can be pasted back into a shell.
    nonisolated(unsafe) public static var commandLine = CommandLine.arguments.map(shellQuoted).joined(separator: " ")
    nonisolated(unsafe) public static var quiet = false
}

/// `s` as one POSIX shell word: unchanged when it has only safe characters, else in single quotes.
public func shellQuoted(_ s: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:@%^")
    if !s.isEmpty && s.allSatisfy({ safe.contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// A diagnostic made safe for one stderr line: control and format characters (newline, CR, NUL, ESC, bidi
/// overrides, U+2028) and U+FFFD (bytes that were not UTF-8) are written as escapes (`\n`, `\x00`, `\u{FFFD}`),
/// and every single-quoted span longer than `maxQuote` characters (input echoed back: a field, a label, a whole
/// line of a CR-only file) is cut to its start and `...`. Every error and warning passes through it.
public func sanitizedMessage(_ s: String, maxQuote: Int = 60) -> String {
    var escaped = ""
    escaped.reserveCapacity(s.utf8.count)
    for u in s.unicodeScalars {
        switch u.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            switch u {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case "\0": escaped += "\\0"
            default: escaped += u.value < 0x100 ? String(format: "\\x%02X", u.value) : String(format: "\\u{%04X}", u.value)
            }
        default:
            if u == "\u{FFFD}" { escaped += "\\u{FFFD}" } else { escaped.unicodeScalars.append(u) }
        }
    }
    // Cut long quoted spans. A quote opens after a non-alphanumeric character (not the apostrophe of "model's")
    // and closes before one.
    let c = Array(escaped)
    var out = "", i = 0
    func word(_ k: Int) -> Bool { k >= 0 && k < c.count && (c[k].isLetter || c[k].isNumber) }
    while i < c.count {
        if c[i] == "'" && !word(i - 1), let j = (i + 1..<c.count).first(where: { c[$0] == "'" && !word($0 + 1) }) {
            let inner = c[(i + 1)..<j]
            out += "'" + (inner.count > maxQuote ? String(inner.prefix(maxQuote - 3)) + "..." : String(inner)) + "'"
            i = j + 1
        } else {
            out.append(c[i]); i += 1
        }
    }
    return out
}
