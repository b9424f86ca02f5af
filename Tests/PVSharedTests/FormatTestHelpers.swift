import Foundation
import XCTest
import PVShared

/// Shared helpers for the format tests: temp files from bytes, and PVError assertions.
enum FormatTest {
    /// Writes `bytes` to `name` inside `dir` and returns the path.
    static func write(_ bytes: [UInt8], _ name: String, in dir: URL) -> String {
        let p = dir.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    static func write(_ text: String, _ name: String, in dir: URL) -> String { write(Array(text.utf8), name, in: dir) }

    static func read(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path) ?? Data()) }

    /// Names in `dir` that look like pending temporaries of OutputFile.
    static func temps(in dir: URL) -> [String] { TestSupport.files(in: dir).filter { $0.hasSuffix(".tmp") } }
}

/// Asserts that `body` throws a PVError with `exit` code whose description contains every string in `contains`;
/// returns the error for further checks.
@discardableResult
func assertPVError(exit: Int32, _ contains: String..., file: StaticString = #filePath, line: UInt = #line,
                   _ body: () throws -> Void) -> PVError? {
    do {
        try body()
        XCTFail("expected a PVError (exit \(exit)) containing \(contains), nothing was thrown", file: file, line: line)
        return nil
    } catch let e as PVError {
        XCTAssertEqual(e.exitCode, exit, "wrong exit code for: \(e.description)", file: file, line: line)
        for c in contains {
            XCTAssertTrue(e.description.contains(c), "message '\(e.description)' lacks '\(c)'", file: file, line: line)
        }
        return e
    } catch {
        XCTFail("expected a PVError, got \(error)", file: file, line: line)
        return nil
    }
}

extension FormatTest {
    /// The float32 elements' bit patterns, copied while `a` is guaranteed alive (the buffer `floats()` returns
    /// points into the array's storage and dangles once the NPYArray is released).
    static func bits(_ a: NPYArray) throws -> [UInt32] { try withExtendedLifetime(a) { try a.floats().map(\.bitPattern) } }
    static func values(_ a: NPYArray) throws -> [Float] { try withExtendedLifetime(a) { Array(try a.floats()) } }
}
