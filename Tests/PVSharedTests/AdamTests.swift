import XCTest
import PVShared

/// Adam against the textbook update (Kingma & Ba 2015, Algorithm 1) in Double, over several steps with a gradient
/// that changes sign and size: with a constant gradient m̂ and v̂ are the same whatever β1 and β2 are, so a swapped or
/// wrong β would pass; here it moves the parameters elsewhere.
final class AdamTests: XCTestCase {
    func testSeveralStepsWithAVaryingGradientMatchTheFormula() {
        let n = 19  // a SIMD body of 16 and a scalar tail of 3
        let lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8
        let p = FloatBuffer(n), g = FloatBuffer(n)
        var ref = [Double](repeating: 0, count: n), m = ref, v = ref
        for i in 0..<n { p.p[i] = Float(i) * 0.1 - 1; ref[i] = Double(p.p[i]) }
        let adam = Adam(count: n, lr: Float(lr))
        for t in 1...6 {
            for i in 0..<n {
                // Sign flips every step, size varies by entry and step.
                let gi = Float((t % 2 == 0 ? -1.0 : 1.0) * (0.2 + 0.3 * Double((i + t) % 5)))
                g.p[i] = gi
                let gd = Double(gi)
                m[i] = b1 * m[i] + (1 - b1) * gd
                v[i] = b2 * v[i] + (1 - b2) * gd * gd
                let mh = m[i] / (1 - pow(b1, Double(t))), vh = v[i] / (1 - pow(b2, Double(t)))
                ref[i] -= lr * mh / (vh.squareRoot() + eps)
            }
            adam.step(params: p, grads: g, zeroGrads: true)
            XCTAssertTrue(g.array.allSatisfy { $0 == 0 }, "the fused pass clears the gradients")
            for i in 0..<n { XCTAssertEqual(Double(p.p[i]), ref[i], accuracy: 1e-5, "entry \(i), step \(t)") }
        }
        // The same run with β1 and β2 swapped ends elsewhere: the test can tell them apart.
        var swapped = [Double](repeating: 0, count: n), ms = swapped, vs = swapped
        for i in 0..<n { swapped[i] = Double(i) * 0.1 - 1 }
        for t in 1...6 {
            for i in 0..<n {
                let gd = Double(Float((t % 2 == 0 ? -1.0 : 1.0) * (0.2 + 0.3 * Double((i + t) % 5))))
                ms[i] = b2 * ms[i] + (1 - b2) * gd; vs[i] = b1 * vs[i] + (1 - b1) * gd * gd
                swapped[i] -= lr * (ms[i] / (1 - pow(b2, Double(t)))) / ((vs[i] / (1 - pow(b1, Double(t)))).squareRoot() + eps)
            }
        }
        XCTAssertGreaterThan(zip(swapped, ref).map { abs($0 - $1) }.max()!, 1e-3)
    }
}
