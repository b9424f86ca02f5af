import XCTest
import PVShared

final class SmokeTests: XCTestCase {
    func testEveryToolAnswersVersionAndHelp() throws {
        for t in ["pv-normalize", "pv-split", "pv-train", "pv-predict", "pv-score", "pv-simulate", "pv-export", "pv-report"] {
            let v = try TestSupport.run(t, ["--version"])
            XCTAssertEqual(v.status, 0, t)
            XCTAssertEqual(v.stdout, "\(t) \(pvVersion)\n")
            let h = try TestSupport.run(t, ["--help"])
            XCTAssertEqual(h.status, 0, t)
            XCTAssertTrue(h.stdout.contains("--threads N"), t)
            let bad = try TestSupport.run(t, ["--no-such-option"])
            XCTAssertEqual(bad.status, 64, t)
            XCTAssertEqual(bad.stderr, "\(t): unknown option --no-such-option (see \(t) --help)\n")
        }
    }
}
