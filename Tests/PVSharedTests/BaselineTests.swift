import Foundation
import XCTest
import PVShared

/// Known answers for the baseline kinds, from Tests/reference/make_baseline_fixture.py (numpy).
final class BaselineTests: XCTestCase {
    struct Fixture {
        let expr: NPYArray
        let split: SplitTable
        let genes: [String]
        let expected: [String: Any]
    }

    func load() throws -> Fixture {
        let dir = TestSupport.fixture("baselines")
        let expr = try NPYArray(path: dir + "/expr.npy")
        let split = try SplitTable(path: dir + "/split.tsv")
        let genes = try String(contentsOfFile: dir + "/genes.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/expected.json")))
        return Fixture(expr: expr, split: split, genes: genes, expected: json as! [String: Any])
    }

    func train(_ f: Fixture, _ kind: ModelKind, _ options: BaselineOptions = BaselineOptions()) throws -> ModelFile {
        let (rows, cols, values) = try f.expr.matrix()
        return try Baselines.train(kind: kind, expr: values, rows: rows, cols: cols, split: f.split, genes: f.genes, options: options)
    }

    func assertClose(_ a: [Float], _ b: Any?, _ what: String, tol: Double = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
        guard let b = b as? [Double] else { return XCTFail("no expected values for \(what)", file: file, line: line) }
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for (x, y) in zip(a, b) where abs(Double(x) - y) > tol * max(1, abs(y)) {
            return XCTFail("\(what): got \(a), expected \(b)", file: file, line: line)
        }
    }

    func testControlPredictsNoChangeAndStoresTheTrainingControlMean() throws {
        let f = try load()
        let m = try train(f, .control)
        XCTAssertEqual(m.kind, "control")
        assertClose(try m.tensor("control_mean"), f.expected["control_mean"], "control_mean")
        XCTAssertEqual(try Baselines.delta(model: m, condition: "A+C"), [Float](repeating: 0, count: 6))
        // control predicts any condition, even of genes never seen.
        XCTAssertEqual(try Baselines.delta(model: m, condition: "ZZZ"), [Float](repeating: 0, count: 6))
    }

    func testMeanIsTheMeanChangeOverTrainingConditions() throws {
        let f = try load()
        let m = try train(f, .mean)
        for q in ["A", "B+C", "QQQ"] {
            assertClose(try Baselines.delta(model: m, condition: q), f.expected["mean_delta"], "mean \(q)")
        }
    }

    func testAdditiveSeenConditionsOwnMeanUnseenSumOfSingles() throws {
        let f = try load()
        let m = try train(f, .additive)
        XCTAssertEqual(m.targets, ["A", "B", "C"])
        let exp = f.expected["additive"] as! [String: Any]
        for (q, v) in exp { assertClose(try Baselines.delta(model: m, condition: q), v, "additive \(q)") }
        // Order inside a label does not matter.
        assertClose(try Baselines.delta(model: m, condition: "C+A"), exp["A+C"], "additive C+A")
        assertClose(try Baselines.delta(model: m, condition: "ctrl+B"), exp["B"], "additive ctrl+B (GEARS-style single)")
        XCTAssertEqual(try Baselines.delta(model: m, condition: "ctrl"), [Float](repeating: 0, count: 6))
    }

    func testLowRankAdditiveProjectsSinglesOnTopPrincipalComponents() throws {
        let f = try load()
        let m = try train(f, .additive, BaselineOptions(rank: 1))
        XCTAssertEqual(m.meta["rank"] as? Int, 1)
        let exp = f.expected["additive_rank1"] as! [String: Any]
        for (q, v) in exp { assertClose(try Baselines.delta(model: m, condition: q), v, "rank-1 additive \(q)") }
        // Full rank (K - 1 = 2 for centred singles) reproduces plain additive.
        let full = try train(f, .additive, BaselineOptions(rank: 3))
        let plain = f.expected["additive"] as! [String: Any]
        for (q, v) in plain { assertClose(try Baselines.delta(model: full, condition: q), v, "rank-3 additive \(q)", tol: 1e-4) }
        XCTAssertThrowsError(try train(f, .additive, BaselineOptions(rank: 0)))
    }

    func testLinearMatchesTheAhlmannEltzeFormula() throws {
        let f = try load()
        let m = try train(f, .linear, BaselineOptions(pca: 2, ridge: 0.1))
        XCTAssertEqual(m.targets, ["A", "B", "C"])
        let exp = f.expected["linear_d2"] as! [String: Any]
        for (q, v) in exp { assertClose(try Baselines.delta(model: m, condition: q), v, "linear \(q)", tol: 1e-4) }
    }

    func testUnknownGeneFailsNamingTheGeneAndTheListCommand() throws {
        let f = try load()
        for kind in [ModelKind.additive, .linear] {
            let m = try train(f, kind)
            XCTAssertThrowsError(try Baselines.delta(model: m, condition: "A+ZNF1")) { e in
                let msg = "\(e)"
                XCTAssertTrue(msg.contains("ZNF1"), msg)
                XCTAssertFalse(msg.contains("gene A "), msg)
                XCTAssertTrue(msg.contains("pv-predict --list-targets model.npz"), msg)
                XCTAssertEqual((e as? PVError)?.exitCode, 64)
            }
            XCTAssertEqual(Baselines.missingTargets(model: m, condition: "ZNF2+A+ZNF1"), ["ZNF1", "ZNF2"])
        }
    }

    func testUnknownKindAndMissingControlsAreErrors() throws {
        let f = try load()
        XCTAssertThrowsError(try train(f, .pvae)) { e in XCTAssertTrue("\(e)".contains("not a baseline kind")) }
        var noCtrl = f.split
        for i in 0..<noCtrl.count where noCtrl.conditions[i] == "ctrl" { noCtrl.sets[i] = "test" }
        let (rows, cols, values) = try f.expr.matrix()
        XCTAssertThrowsError(try Baselines.train(kind: .additive, expr: values, rows: rows, cols: cols, split: noCtrl, genes: f.genes)) { e in
            XCTAssertTrue("\(e)".contains("no control cells"), "\(e)")
        }
    }

    func testModelFileRoundTripKeepsPredictions() throws {
        let f = try load()
        let dir = TestSupport.tempDir("pv-baseline")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (kind, opts) in [(.control, .init()), (.mean, .init()), (.additive, .init()), (.additive, .init(rank: 1)), (.linear, .init())] as [(ModelKind, BaselineOptions)] {
            let m = try train(f, kind, opts)
            let path = dir.appendingPathComponent("\(kind).npz").path
            try m.write(path)
            let back = try ModelFile(path: path)
            XCTAssertEqual(back.kind, kind.rawValue)
            XCTAssertEqual(back.genes, f.genes)
            XCTAssertEqual(back.targets, m.targets)
            for q in ["A", "A+B", "B+C"] {
                XCTAssertEqual(try Baselines.delta(model: back, condition: q), try Baselines.delta(model: m, condition: q), "\(kind) \(q)")
            }
        }
    }
}
