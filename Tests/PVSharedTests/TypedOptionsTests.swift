import Foundation
import XCTest
import PVShared

/// Typed option declarations: parsing into the declared type, defaults, bounds, choices, "does not use" warnings,
/// every error of a command line reported at once, --help/--version as `EarlyExit`, help sections and width.
final class TypedOptionsTests: XCTestCase {
    enum Kind: String, OptionChoice { case pvae, mean, linear }

    static let out = Option<String?>("out", short: "o", "FILE", default: nil, help: "output file")
    static let kind = Option<Kind>("model", "KIND", default: .pvae, help: "model kind")
    static let epochs = Option<Int>("epochs", "N", default: 100, .atLeast(0), group: "Training", usedBy: ["pvae"],
                                    help: "training epochs")
    static let steps = Option<Int?>("steps", "N", default: nil, .atLeast(1), group: "Training", usedBy: ["pvae"],
                                    help: "optimiser steps")
    static let lr = Option<Double>("lr", "X", default: 1e-4, .above(0), group: "Training", usedBy: ["pvae"],
                                   help: "learning rate")
    static let frac = Option<Double>("frac", "F", default: 0.1, .within(0, 1), help: "a fraction")
    static let pca = Option<Int>("pca", "N", default: 10, .atLeast(1), group: "Baselines", usedBy: ["linear"],
                                 help: "PCA dimensions")
    static let size = Option<Int?>("size", "N", default: nil, .atLeast(1), defaultWord: "auto", help: "a size")
    static let pred = Option<String>("pred", "NAME=FILE", default: "", repeatable: true, help: "a prediction")
    static let force = Option(flag: "force", short: "f", help: "overwrite")
    static let all: [any OptionDeclaration] = [out, kind, epochs, steps, lr, frac, pca, size, pred, force]

    var saved: (Int, Bool)!
    override func setUp() { saved = (Parallel.threads, ToolContext.quiet) }
    override func tearDown() { Parallel.threads = saved.0; ToolContext.quiet = saved.1 }

    private func parse(_ args: [String], _ range: ClosedRange<Int> = 0...Int.max) throws -> Options {
        try Options(tool: "pv-test", synopsis: "pv-test [options] A", description: "Tests typed options.",
                    options: Self.all, arguments: args, positionals: range)
    }

    private func errors(_ args: [String], _ range: ClosedRange<Int> = 0...Int.max,
                        file: StaticString = #filePath, line: UInt = #line) -> [String] {
        let e = assertPVError(exit: 64, file: file, line: line) { _ = try self.parse(args, range) }
        return e?.description.components(separatedBy: "\n") ?? []
    }

    func testTypedValuesAndDefaults() throws {
        let o = try parse(["--model", "linear", "--epochs", "1e3", "--lr=2.5e-3", "-f", "--size", "7", "--pred", "a=1",
                           "--pred", "b=2", "x"])
        XCTAssertEqual(o[Self.kind], .linear)
        XCTAssertEqual(o[Self.epochs], 1000)
        XCTAssertEqual(o[Self.lr], 2.5e-3)
        XCTAssertTrue(o[Self.force])
        XCTAssertEqual(o[Self.size], 7)
        XCTAssertEqual(o.all(Self.pred), ["a=1", "b=2"])
        XCTAssertNil(o[Self.out]); XCTAssertNil(o[Self.steps])
        XCTAssertTrue(o.given(Self.epochs)); XCTAssertFalse(o.given(Self.steps))
        let d = try parse([])
        XCTAssertEqual(d[Self.kind], .pvae); XCTAssertEqual(d[Self.epochs], 100); XCTAssertEqual(d[Self.lr], 1e-4)
        XCTAssertEqual(d[Self.frac], 0.1); XCTAssertFalse(d[Self.force]); XCTAssertEqual(d.all(Self.pred), [])
        XCTAssertNil(try parse(["--size", "auto"])[Self.size], "the default's word stands for the default")
        XCTAssertEqual(try parse(["--out", "a", "-ob"])[Self.out], "b", "the last one wins")
    }

    func testBoundsAndTypes() {
        XCTAssertEqual(errors(["--epochs", "-1"]), ["--epochs must be at least 0, got -1"])
        XCTAssertEqual(errors(["--steps", "0"]), ["--steps must be at least 1, got 0"])
        XCTAssertEqual(errors(["--lr", "0"]), ["--lr must be greater than 0, got 0"])
        XCTAssertEqual(errors(["--frac", "1.5"]), ["--frac must be 0 to 1, got 1.5"])
        XCTAssertEqual(errors(["--frac", "-0.01"]), ["--frac must be 0 to 1, got -0.01"])
        XCTAssertEqual(errors(["--epochs", "1.5"]), ["option --epochs: expected an integer, got '1.5'"])
        XCTAssertEqual(errors(["--lr", "nan"]), ["option --lr: expected a number, got 'nan'"])
        XCTAssertEqual(errors(["--size", "big"]), ["option --size: expected an integer, got 'big'"])
        XCTAssertEqual(errors(["--model", "vae"]), ["option --model: expected one of pvae, mean, linear, got 'vae'"])
        XCTAssertEqual(errors(["--threads", "0"]), ["--threads must be at least 1, got 0"])
        XCTAssertNoThrow(try parse(["--frac", "0", "--epochs", "0", "--frac", "1"]), "bounds are inclusive")
    }

    func testEveryErrorIsReportedAtOnce() {
        XCTAssertEqual(errors(["--nope", "--epochs", "x", "-z", "--lr", "-1", "--force=yes", "--frac"]), [
            "unknown option --nope (see pv-test --help)",
            "option --epochs: expected an integer, got 'x'",
            "unknown option -z (see pv-test --help)",
            "--lr must be greater than 0, got -1",
            "option --force takes no value",
            "option --frac needs a value F",
        ])
        // The positional count is named when it is the only problem (an unknown option's value would miscount).
        XCTAssertEqual(errors(["--nope", "v"], 0...0), ["unknown option --nope (see pv-test --help)"])
        XCTAssertEqual(errors(["a", "b"], 0...1), ["expected at most 1 input argument, got 2 (usage: pv-test [options] A)"])
    }

    func testHelpAndVersionAreReturnedNotPrinted() throws {
        for (args, start) in [(["--help"], "Usage: pv-test"), (["-h", "--nope"], "Usage: pv-test"),
                              (["--version"], "pv-test \(pvVersion)")] {
            do { _ = try parse(args); XCTFail("\(args) should end the run") } catch let e as EarlyExit {
                XCTAssertTrue(e.text.hasPrefix(start), e.text)
            }
        }
    }

    func testUnusedOptionsOfTheModeAreNamed() throws {
        let warnings = try captureStderr {
            try parse(["--model", "mean", "--steps", "5", "--pca", "3", "--lr", "1", "--frac", "0.5"])
                .warnUnused(by: Self.kind, among: Self.all)
            try parse(["--model", "linear", "--pca", "3"]).warnUnused(by: Self.kind, among: Self.all)
        }
        XCTAssertEqual(warnings, "\(ToolContext.name): warning: --model mean does not use --lr, --pca, --steps; ignored\n")
    }

    func testHelpIsGroupedAndFitsTheWidth() {
        let h = Options.helpText(tool: "pv-test", synopsis: "pv-test [options] A", description: String(repeating: "word ", count: 60),
                                 specs: Self.all + Options.common)
        let lines = h.components(separatedBy: "\n")
        XCTAssertTrue(lines.allSatisfy { $0.count <= 100 }, lines.filter { $0.count > 100 }.joined(separator: "\n"))
        XCTAssertEqual(lines.filter { $0.hasSuffix(":") && !$0.hasPrefix(" ") }, ["Options:", "Training:", "Baselines:", "Common:"])
        let training = lines.firstIndex(of: "Training:")!, baselines = lines.firstIndex(of: "Baselines:")!
        XCTAssertTrue(lines[training + 1].contains("--epochs N"))
        XCTAssertTrue(lines[baselines + 1].contains("--pca N"))
        XCTAssertTrue(lines.contains { $0.contains("--lr X") && $0.hasSuffix("learning rate [default: 1e-4]") }, h)
        XCTAssertTrue(lines.contains { $0.contains("--frac F") && $0.hasSuffix("a fraction [default: 0.1]") }, h)
        XCTAssertTrue(lines.contains { $0.contains("--size N") && $0.hasSuffix("[default: auto]") }, h)
        XCTAssertTrue(lines.contains { $0.contains("--model KIND") && $0.hasSuffix("[default: pvae]") }, h)
        XCTAssertFalse(lines.contains { $0.contains("--out FILE") && $0.contains("[default") }, "no default for an unset optional")
        // A long help wraps under its own column.
        let wrapped = Options.helpText(tool: "t", synopsis: "t", description: "d", specs: [
            Option<Int>("n", "N", default: 1, help: String(repeating: "long words here ", count: 12))])
            .components(separatedBy: "\n")
        let i = wrapped.firstIndex { $0.contains("--n N") }!
        XCTAssertTrue(wrapped[i + 1].hasPrefix(String(repeating: " ", count: 30)) && wrapped[i + 1].dropFirst(30).first != " ",
                      wrapped[i + 1])
        XCTAssertTrue(wrapped.allSatisfy { $0.count <= 100 })
    }
}

/// What `body` writes to stderr (the file descriptor), as text.
func captureStderr(_ body: () throws -> Void) rethrows -> String {
    fflush(stderr)
    let saved = dup(2)
    var fds: [Int32] = [0, 0]
    pipe(&fds)
    dup2(fds[1], 2); close(fds[1])
    defer { fflush(stderr); dup2(saved, 2); close(saved) }
    try body()
    fflush(stderr)
    dup2(saved, 2)
    var out = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 4096)
    let flags = fcntl(fds[0], F_GETFL); _ = fcntl(fds[0], F_SETFL, flags | O_NONBLOCK)
    while true { let n = read(fds[0], &buf, buf.count); if n <= 0 { break }; out += buf[0..<n] }
    close(fds[0])
    return String(decoding: out, as: UTF8.self)
}
