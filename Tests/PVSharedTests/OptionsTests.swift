import Foundation
import XCTest
import PVShared

/// Command-line parsing (Options) and the help page. --help/--version call exit(), so they are covered by
/// SmokeTests through the built tools, not here.
final class OptionsTests: XCTestCase {
    static let synopsis = "pv-test [options] A B"
    enum Kind: String, OptionChoice { case pvae, mean }
    static let out = Option<String?>("out", short: "o", "FILE", default: nil, help: "output file")
    static let seed = Option<Int>("seed", "N", default: 0, help: "random seed")
    static let lr = Option<Double>("lr", "X", default: 1e-3, help: "learning rate")
    static let pred = Option<String?>("pred", "NAME=FILE", default: nil, repeatable: true, help: "a prediction to score")
    static let model = Option<Kind>("model", "KIND", default: .pvae, help: "model kind")
    static let long = Option<String?>("a-rather-long-option-name", "VALUE", default: nil, help: "wraps onto the next line")
    static let force = Option(flag: "force", short: "f", help: "overwrite")
    static let specs: [any OptionDeclaration] = [out, seed, lr, pred, model, long, force]

    var saved: (Int, Bool)!
    override func setUp() { saved = (Parallel.threads, ToolContext.quiet) }
    override func tearDown() { Parallel.threads = saved.0; ToolContext.quiet = saved.1 }

    private func parse(_ args: [String], _ range: ClosedRange<Int> = 0...Int.max) throws -> Options {
        try Options(tool: "pv-test", synopsis: Self.synopsis, description: "Tests options.", options: Self.specs,
                    arguments: args, positionals: range)
    }

    private func usageError(_ args: [String], _ range: ClosedRange<Int> = 0...Int.max, file: StaticString = #filePath,
                            line: UInt = #line) -> String {
        let e = assertPVError(exit: 64, file: file, line: line) { _ = try self.parse(args, range) }
        if let e, case .usage = e {} else { XCTFail("expected .usage, got \(String(describing: e))", file: file, line: line) }
        return e?.description ?? ""
    }

    func testFlagsValuesAndPositionals() throws {
        let o = try parse(["in.npy", "-f", "--out", "x.npy", "--seed=5", "-", "--lr", "-0.5", "-3"])
        XCTAssertTrue(o[Self.force])
        XCTAssertEqual(o[Self.out], "x.npy")
        XCTAssertEqual(o[Self.seed], 5)
        XCTAssertEqual(o[Self.lr], -0.5, "a value may start with '-'")
        XCTAssertEqual(o.positionals, ["in.npy", "-", "-3"], "'-' and negative numbers are positionals")
        XCTAssertTrue(o.given(Self.out)); XCTAssertFalse(o.given(Self.model))
        let p = try parse(["x"])
        XCTAssertFalse(p[Self.force]); XCTAssertNil(p[Self.out])
    }

    func testShortOptionsAndInlineValues() throws {
        let o = try parse(["-o", "a", "-ob", "--pred=x=1.npy"])
        XCTAssertEqual(o[Self.out], "b", "last one wins; -oVALUE works")
        XCTAssertEqual(o.all(Self.pred), ["x=1.npy"], "only the first '=' separates name and value")
        let e = try parse(["--out="])
        assertPVError(exit: 64, "option --out is required (see pv-test --help)") { _ = try e.required(Self.out) }
    }

    func testRepeatable() throws {
        let o = try parse(["--pred", "a=1.npy", "--pred=b=2.npy", "--pred", "c"])
        XCTAssertEqual(o.all(Self.pred), ["a=1.npy", "b=2.npy", "c"])
        XCTAssertEqual(try parse([]).all(Self.pred), [])
    }

    func testDoubleDashEndsOptions() throws {
        let o = try parse(["-f", "--", "--out", "-f"])
        XCTAssertEqual(o.positionals, ["--out", "-f"])
        XCTAssertNil(o[Self.out])
    }

    func testDefaults() throws {
        let o = try parse([])
        XCTAssertEqual(o[Self.seed], 0)
        XCTAssertEqual(o[Self.lr], 1e-3)
        XCTAssertEqual(o[Self.model], .pvae)
        XCTAssertFalse(o.given(Self.seed), "a default is not given")
        XCTAssertNil(o[Self.out])
        assertPVError(exit: 64, "option --out is required (see pv-test --help)") { _ = try o.required(Self.out) }
    }

    func testIntegers() throws {
        XCTAssertEqual(try parse(["--seed", "1e4"])[Self.seed], 10_000, "1e4 is an integer")
        XCTAssertEqual(try parse(["--seed", "-2e3"])[Self.seed], -2_000)
        XCTAssertEqual(try parse(["--seed", "2.0"])[Self.seed], 2)
        for bad in ["1.5", "abc", "", "1e30", "nan", "inf", "3x"] {
            XCTAssertEqual(usageError(["--seed", bad]), "option --seed: expected an integer, got '\(bad)'")
        }
    }

    func testNumbersAndChoices() throws {
        XCTAssertEqual(try parse(["--lr", "2.5e-4"])[Self.lr], 2.5e-4)
        for bad in ["abc", "nan", "inf", "-inf", "1,5", ""] {
            XCTAssertEqual(usageError(["--lr", bad]), "option --lr: expected a number, got '\(bad)'")
        }
        XCTAssertEqual(try parse(["--model", "mean"])[Self.model], .mean)
        XCTAssertEqual(usageError(["--model", "vae"]), "option --model: expected one of pvae, mean, got 'vae'")
        XCTAssertEqual(usageError(["--model", "vae", "--seed", "x"]),
                       "option --model: expected one of pvae, mean, got 'vae'\noption --seed: expected an integer, got 'x'",
                       "every error of a command line at once")
    }

    func testUsageErrors() {
        XCTAssertEqual(usageError(["--nope"]), "unknown option --nope (see pv-test --help)")
        XCTAssertEqual(usageError(["--nope=3"]), "unknown option --nope (see pv-test --help)")
        XCTAssertEqual(usageError(["-x"]), "unknown option -x (see pv-test --help)")
        XCTAssertEqual(usageError(["in", "--out"]), "option --out needs a value FILE")
        XCTAssertEqual(usageError(["-o"]), "option --out needs a value FILE")
        XCTAssertEqual(usageError(["--force=yes"]), "option --force takes no value")
    }

    func testPositionalCount() {
        let u = "(usage: \(Self.synopsis))"
        XCTAssertEqual(usageError(["a"], 2...2), "expected 2 input arguments, got 1 \(u)")
        XCTAssertEqual(usageError([], 1...1), "expected 1 input argument, got 0 \(u)")
        XCTAssertEqual(usageError(["a", "b"], 0...1), "expected at most 1 input argument, got 2 \(u)")
        XCTAssertEqual(usageError([], 1...Int.max), "expected at least 1 input argument, got 0 \(u)")
        XCTAssertEqual(usageError(["a"], 2...Int.max), "expected at least 2 input arguments, got 1 \(u)")
        XCTAssertEqual(usageError(["a", "b", "c", "d"], 2...3), "expected 2 to 3 input arguments, got 4 \(u)")
        XCTAssertNoThrow(try parse(["a", "b"], 2...3))
    }

    func testThreadsAndQuiet() throws {
        XCTAssertEqual(usageError(["--threads", "0"]), "--threads must be at least 1, got 0")
        XCTAssertEqual(usageError(["--threads", "-2"]), "--threads must be at least 1, got -2")
        XCTAssertEqual(usageError(["--threads", "two"]), "option --threads: expected an integer, got 'two'")
        _ = try parse(["--threads", "3"])
        XCTAssertEqual(Parallel.threads, 3)
        _ = try parse(["-q"])
        XCTAssertTrue(ToolContext.quiet)
        _ = try parse([])
        XCTAssertFalse(ToolContext.quiet)
    }

    func testHelpTextListsEveryOptionWithDefault() {
        let h = Options.helpText(tool: "pv-test", synopsis: Self.synopsis, description: "Tests options.",
                                 specs: Self.specs + Options.common)
        let lines = h.components(separatedBy: "\n")
        XCTAssertEqual(Array(lines.prefix(5)), ["Usage: \(Self.synopsis)", "", "Tests options.", "", "Options:"])
        func line(_ opt: String) -> String? { lines.first { $0.contains(opt + " ") || $0.hasSuffix(opt) } }
        XCTAssertEqual(line("--out"), "  -o, --out FILE" + String(repeating: " ", count: 14) + "output file")
        XCTAssertEqual(line("--seed"), "      --seed N" + String(repeating: " ", count: 16) + "random seed [default: 0]")
        XCTAssertTrue(line("--lr")?.hasSuffix("learning rate [default: 0.001]") ?? false)
        XCTAssertTrue(line("--pred")?.hasSuffix("a prediction to score (repeatable)") ?? false)
        XCTAssertTrue(line("--model")?.hasSuffix("[default: pvae]") ?? false)
        XCTAssertTrue(line("--threads")?.hasSuffix("[default: all cores]") ?? false)
        XCTAssertTrue(line("--threads")?.contains("--threads N") ?? false)
        XCTAssertNotNil(line("-q, --quiet")); XCTAssertNotNil(line("-h, --help")); XCTAssertNotNil(line("--version"))
        XCTAssertNotNil(line("-f, --force"))
        // Help text of every option starts in one column; a long option moves its help to the next line.
        for s in Self.specs + Options.common {
            XCTAssertTrue(h.contains(s.help), "help lists --\(s.name)")
        }
        let long = lines.firstIndex { $0.contains("--a-rather-long-option-name VALUE") }!
        XCTAssertEqual(lines[long + 1], String(repeating: " ", count: 30) + "wraps onto the next line")
        XCTAssertEqual(lines.last, "Exit status: 0 success, 64 usage error, 65 bad input data, 66 missing input, 74 I/O error.")
    }
}
