import XCTest
import PVShared

/// Identifiability metrics (MCC, linear R²) and the Hungarian algorithm, against scipy
/// (Tests/reference/make_identifiability_fixture.py), brute force and exact known answers.
final class IdentifiabilityTests: XCTestCase {
    struct Cases: Decodable {
        struct Assignment: Decodable { let rows: Int, cols: Int, cost: [Double], total: Double }
        struct MCC: Decodable { let n: Int, truth: [Float], learned: [Float], mcc: Double }
        struct R2: Decodable { let n: Int, target: [Float], predictors: [Float], r2: Double }
        let assignment: [Assignment], mcc: [MCC], r2: [R2]
    }

    func cases() throws -> Cases {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixture("identifiability/cases.json")))
        return try JSONDecoder().decode(Cases.self, from: data)
    }

    /// A valid assignment: min(rows, cols) pairs, no row or column twice.
    func checkValid(_ pairs: [(Int, Int)], _ rows: Int, _ cols: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(pairs.count, min(rows, cols), file: file, line: line)
        XCTAssertEqual(Set(pairs.map(\.0)).count, pairs.count, "rows distinct", file: file, line: line)
        XCTAssertEqual(Set(pairs.map(\.1)).count, pairs.count, "columns distinct", file: file, line: line)
        XCTAssertTrue(pairs.allSatisfy { (0..<rows).contains($0.0) && (0..<cols).contains($0.1) }, file: file, line: line)
    }

    func testAssignmentMatchesScipy() throws {
        for c in try cases().assignment {
            let pairs = linearSumAssignment(cost: c.cost, rows: c.rows, cols: c.cols)
            checkValid(pairs, c.rows, c.cols)
            let total = pairs.reduce(0.0) { $0 + c.cost[$1.0 * c.cols + $1.1] }
            XCTAssertEqual(total, c.total, accuracy: 1e-9, "\(c.rows)x\(c.cols)")
        }
    }

    /// Every injective assignment of a small matrix, enumerated: none beats the algorithm's.
    func testAssignmentIsOptimalByBruteForce() {
        var rng = RNG(seed: 5)
        for (rows, cols) in [(3, 3), (4, 4), (3, 5), (5, 3), (5, 5), (2, 6)] {
            for _ in 0..<20 {
                let cost = (0..<(rows * cols)).map { _ in Double(Int(rng.uniform() * 5)) + 0.1 * Double(rng.normal()) }
                let pairs = linearSumAssignment(cost: cost, rows: rows, cols: cols)
                checkValid(pairs, rows, cols)
                let got = pairs.reduce(0.0) { $0 + cost[$1.0 * cols + $1.1] }
                var best = Double.infinity
                // Assign the smaller side's items to distinct items of the larger side.
                let small = min(rows, cols), large = max(rows, cols)
                func search(_ i: Int, _ usedMask: Int, _ acc: Double) {
                    if i == small { best = min(best, acc); return }
                    for j in 0..<large where usedMask & (1 << j) == 0 {
                        let v = rows <= cols ? cost[i * cols + j] : cost[j * cols + i]
                        search(i + 1, usedMask | (1 << j), acc + v)
                    }
                }
                search(0, 0, 0)
                XCTAssertEqual(got, best, accuracy: 1e-9, "\(rows)x\(cols)")
            }
        }
    }

    /// A permuted, scaled, sign-flipped, shifted copy of the truth (plus unrelated extra columns) scores exactly 1,
    /// and the matching finds the permutation.
    func testMCCOfAPermutedScaledCopyIsOne() {
        var rng = RNG(seed: 9)
        let n = 200, a = 6, extra = 3, b = a + extra
        let perm = [3, 0, 5, 1, 4, 2]
        let truth = (0..<(n * a)).map { _ in rng.normal() }
        var learned = [Float](repeating: 0, count: n * b)
        for i in 0..<n {
            for j in 0..<a { learned[i * b + perm[j]] = (j % 2 == 0 ? -2.5 : 0.3) * truth[i * a + j] + Float(j) }
            for j in a..<b { learned[i * b + j] = rng.normal() }
        }
        // The extra columns are noise; move one of them in front to break any identity ordering.
        let r = Identifiability.mcc(truth: truth, learned: learned, rows: n)
        XCTAssertEqual(r.mcc, 1, accuracy: 1e-6)
        XCTAssertEqual(r.pairs.map(\.1), perm)
        // Independent noise instead of a copy: far from 1.
        let noise = (0..<(n * a)).map { _ in rng.normal() }
        XCTAssertLessThan(Identifiability.mcc(truth: truth, learned: noise, rows: n).mcc, 0.3)
        // A collapsed (constant) learned column correlates 0, it does not crash or produce NaN.
        var collapsed = learned
        for i in 0..<n { collapsed[i * b + perm[0]] = 0.5 }
        let c = Identifiability.mcc(truth: truth, learned: collapsed, rows: n).mcc
        XCTAssertTrue(c.isFinite && c < 1 - 0.1 / Double(a) && c > 0.8, "\(c)")
    }

    func testMCCMatchesScipy() throws {
        for c in try cases().mcc {
            let r = Identifiability.mcc(truth: c.truth, learned: c.learned, rows: c.n)
            XCTAssertEqual(r.mcc, c.mcc, accuracy: 1e-5)
            XCTAssertEqual(r.pairs.count, min(c.truth.count, c.learned.count) / c.n)
        }
    }

    func testLinearR2MatchesNumpy() throws {
        for c in try cases().r2 {
            XCTAssertEqual(Identifiability.linearR2(target: c.target, predictors: c.predictors, rows: c.n), c.r2, accuracy: 1e-5)
        }
    }

    /// An invertible affine map of the truth explains it fully; constant predictors explain nothing.
    func testLinearR2KnownAnswers() {
        var rng = RNG(seed: 4)
        let n = 150, a = 3
        let truth = (0..<(n * a)).map { _ in rng.normal() }
        var mixed = [Float](repeating: 0, count: n * a)
        for i in 0..<n {
            mixed[i * a] = truth[i * a] + 2 * truth[i * a + 1] + 7
            mixed[i * a + 1] = -truth[i * a + 1] + 0.5 * truth[i * a + 2]
            mixed[i * a + 2] = 3 * truth[i * a + 2] - 1
        }
        XCTAssertEqual(Identifiability.linearR2(target: truth, predictors: mixed, rows: n), 1, accuracy: 1e-9)
        let constant = [Float](repeating: 2, count: n * 4)
        XCTAssertEqual(Identifiability.linearR2(target: truth, predictors: constant, rows: n), 0, accuracy: 1e-12)
    }
}
