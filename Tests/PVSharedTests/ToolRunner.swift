import Foundation
import XCTest

/// Runs a built pv tool from tests and captures its exit status, stdout and stderr.
struct ToolResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum TestSupport {
    /// The folder holding the built executables (the same folder as the test bundle under SwiftPM).
    static var binDir: URL {
        var u = Bundle(for: Marker.self).bundleURL
        while !FileManager.default.fileExists(atPath: u.appendingPathComponent("pv-normalize").path) && u.path != "/" {
            u = u.deletingLastPathComponent()
        }
        return u
    }

    /// Runs `tool` with `args`, optionally feeding `stdin`.
    @discardableResult
    static func run(_ tool: String, _ args: [String], stdin: Data? = nil, cwd: URL? = nil, env: [String: String] = [:]) throws -> ToolResult {
        let p = Process()
        p.executableURL = binDir.appendingPathComponent(tool)
        p.arguments = args
        if !env.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 } }
        if let cwd { p.currentDirectoryURL = cwd }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        let inPipe = Pipe()
        p.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        try p.run()
        if let stdin { inPipe.fileHandleForWriting.write(stdin); try inPipe.fileHandleForWriting.close() }
        // Drain both pipes concurrently so a chatty tool cannot block.
        final class Box: @unchecked Sendable { var data = Data() }
        let o = Box(), e = Box()
        let g = DispatchGroup()
        g.enter(); DispatchQueue.global().async { o.data = out.fileHandleForReading.readDataToEndOfFile(); g.leave() }
        g.enter(); DispatchQueue.global().async { e.data = err.fileHandleForReading.readDataToEndOfFile(); g.leave() }
        g.wait()
        p.waitUntilExit()
        return ToolResult(status: p.terminationStatus, stdout: String(decoding: o.data, as: UTF8.self),
                          stderr: String(decoding: e.data, as: UTF8.self))
    }

    /// A fresh empty temporary folder.
    static func tempDir(_ label: String = "pv") -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    /// Path of a committed fixture file under Tests/PVSharedTests/Fixtures.
    static func fixture(_ name: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    /// The shared real-data folder (../shared/data/norman2019-subset beside the repository, else
    /// /work/shared/data/norman2019-subset, where a git worktree elsewhere finds it), or nil when absent.
    static var normanDir: String? {
        let candidates = [repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/norman2019-subset").path,
                          "/work/shared/data/norman2019-subset"]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/matrix.mtx.gz") }
    }

    /// python3 with numpy, or nil (tests that need it skip with a message).
    static var pythonWithNumpy: String? { imports("python3", ["numpy"]) ? "python3" : nil }

    /// Whether `python` runs and imports every module in `modules`.
    private static func imports(_ python: String, _ modules: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", modules.map { "import \($0)" }.joined(separator: "; ")]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// Runs a python3 snippet; returns (status, stdout+stderr).
    static func python(_ code: String, args: [String] = []) throws -> (Int32, String) {
        try runPython("python3", ["-c", code] + args)
    }

    /// Runs `python` with `args`; returns (status, stdout+stderr).
    private static func runPython(_ python: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python] + args
        let pipe = Pipe()
        p.standardOutput = pipe; p.standardError = pipe
        try p.run()
        let d = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: d, as: UTF8.self))
    }

    /// The repository root (the folder holding Package.swift).
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A python that imports every module in `modules`: $PV_INTEROP_PYTHON when set, else `make interop-deps`'s
    /// .venv-interop/bin/python, else python3; nil when none does (the caller skips, saying so).
    static func interopPython(_ modules: [String]) -> String? {
        let candidates = ProcessInfo.processInfo.environment["PV_INTEROP_PYTHON"].map { [$0] }
            ?? [repoRoot.appendingPathComponent(".venv-interop/bin/python").path, "python3"]
        return candidates.first { imports($0, modules) }
    }

    /// Runs a python script of the repository (path relative to the root) with `python`; returns (status, stdout+stderr).
    static func pythonScript(_ python: String, _ script: String, _ args: [String]) throws -> (Int32, String) {
        try runPython(python, [repoRoot.appendingPathComponent(script).path] + args)
    }

    /// Files in a folder (to check that a failed run left nothing behind).
    static func files(in dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }
}

private final class Marker {}
