import Foundation
import PVShared
import XCTest

/// pv-train --grad-check against loss terms and gradients computed by PyTorch autograd in float64
/// (Tests/reference/torch_oracle.py, from bench/reference/pvae.py), for a model written by the reference.
final class TorchOracleTests: XCTestCase {
    func check(_ variant: String) throws {
        let dir = TestSupport.tempDir("oracle")
        let model = TestSupport.fixture("torch_oracle/\(variant)-model.npz")
        let batch = TestSupport.fixture("torch_oracle/\(variant)-batch.npz")
        let refPath = TestSupport.fixture("torch_oracle/\(variant)-grads.npz")
        let out = dir.appendingPathComponent("grads.npz").path
        let r = try TestSupport.run("pv-train", ["--grad-check", batch, "--out", out, "--threads", "1", model])
        XCTAssertEqual(r.status, 0, r.stderr)
        let got = try NPZ(path: out), ref = try NPZ(path: refPath)
        var names = 0
        for m in ref.members where m.name.hasSuffix(".npy") {
            let n = String(m.name.dropLast(4))
            let want = try ref.array(n, file: refPath).floatArray()
            let have = try got.array(n, file: out).floatArray()
            XCTAssertEqual(have.count, want.count, n)
            guard have.count == want.count else { continue }
            let scale = want.map { abs($0) }.max() ?? 0
            let diff = zip(have, want).map { abs($0 - $1) }.max() ?? 0
            // Gradients: normwise relative error; loss terms (one value each): relative error.
            let tol: Float = n.hasPrefix("grad.") ? 1e-4 : 1e-5
            XCTAssertLessThanOrEqual(diff, tol * max(scale, 1e-6), "\(variant) \(n): max diff \(diff), scale \(scale)")
            names += 1
        }
        XCTAssertGreaterThan(names, 30, "fixture has too few members")
    }

    func testMLPVariantMatchesTorch() throws { try check("mlp") }
    func testAdditiveVariantMatchesTorch() throws { try check("additive") }
}
