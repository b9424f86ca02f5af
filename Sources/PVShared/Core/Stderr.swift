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
    nonisolated(unsafe) public static var commandLine = CommandLine.arguments.joined(separator: " ")
    nonisolated(unsafe) public static var quiet = false
}
