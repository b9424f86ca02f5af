import Foundation

/// Runs a tool's body, turning any thrown error into one line on stderr and the matching exit code.
/// Temporary outputs still pending are removed, so a failed run leaves no half-written file.
public func runTool(_ name: String, _ body: () throws -> Void) -> Never {
    BLASKernels.restartWithKnownKernelsIfNeeded()
    ToolContext.name = name
    setvbuf(stdout, nil, _IOFBF, 1 << 16)
    installSignalCleanup()
    do {
        try body()
        // Results printed to stdout (a summary, a list) that could not be written are a failure, not a success.
        if fflush(stdout) != 0 || ferror(stdout) != 0 {
            printErr("\(name): <stdout>: write failed: \(String(cString: strerror(errno)))")
            exit(PVError.io(file: "<stdout>", "").exitCode)
        }
        exit(0)
    } catch let e as EarlyExit {
        print(e.text)
        exit(fflush(stdout) == 0 ? 0 : PVError.io(file: "<stdout>", "").exitCode)
    } catch let e as PVError {
        PendingOutputs.removeAll()
        fflush(stdout)
        // Several usage errors come one a line, each naming the tool; any other error is one line whatever it
        // quotes (control characters escaped, long quotes cut).
        let lines = { if case .usage = e { return e.description.split(separator: "\n").map(String.init) } else { return [e.description] } }()
        for line in lines { printErr("\(name): \(sanitizedMessage(line))") }
        exit(e.exitCode)
    } catch {
        PendingOutputs.removeAll()
        fflush(stdout)
        printErr("\(name): \(sanitizedMessage("\(error)"))")
        exit(70)
    }
}

/// Provenance lines for text outputs, as samtools' @PG: tool, version, command line, and the run id that tells the
/// files of one run from a mix (`RunStamp`).
public func provenanceLines() -> [String] {
    ["# \(ToolContext.name) \(pvVersion)", "# command: \(ToolContext.commandLine)"] + (RunStamp.current.map { ["# run: \($0)"] } ?? [])
}
