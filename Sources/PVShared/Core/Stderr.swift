import Foundation

/// Writes one line to standard error (diagnostics, warnings, progress never go to stdout).
public func printErr(_ s: String, terminator: String = "\n") {
    FileHandle.standardError.write((s + terminator).data(using: .utf8)!)
}

/// Prints a warning prefixed with the tool name.
public func warn(_ s: String) { printErr("\(ToolContext.name): warning: \(s)") }

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
