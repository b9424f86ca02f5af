import XCTest
import PVShared

/// The training step's parallel and fused kernels: the same numbers as the plain passes, and the same numbers on one
/// thread as on two (resumed runs depend on it).
final class TrainKernelTests: XCTestCase {
    override func tearDown() { Parallel.threads = ProcessInfo.processInfo.activeProcessorCount }

    func testFusedMSEGivesTheLossAndGradientOfTheSeparatePasses() {
        var rng = RNG(seed: 3)
        let rows = 37, cols = 203   // not multiples of 8: the tails run too
        let xh = ModelGradientTests.randomBuffer(rows * cols, &rng), x = ModelGradientTests.randomBuffer(rows * cols, &rng)
        let d1 = FloatBuffer(rows * cols), d2 = FloatBuffer(rows * cols)
        for t in [1, 2] {
            Parallel.threads = t
            let fused = MSELoss.forward(xh.p, x.p, rows: rows, cols: cols, coef: 0.7, gradient: d1.p)
            let plain = MSELoss.forward(xh.p, x.p, rows: rows, cols: cols)
            MSELoss.backward(xh.p, x.p, rows: rows, cols: cols, coef: 0.7, d2.p)
            XCTAssertEqual(fused, plain)
            XCTAssertEqual(d1.array, d2.array)
            // Known answer, summed in double independently.
            var s = 0.0
            for i in 0..<(rows * cols) { let e = Double(xh.p[i]) - Double(x.p[i]); s += e * e }
            XCTAssertEqual(fused, s / Double(rows * cols), accuracy: 1e-5 * s / Double(rows * cols))
        }
    }

    func testParallelSumAddsInIndexOrderOnAnyThreadCount() {
        let terms: [Double] = (0..<1000).map { (i: Int) -> Double in
            let sign: Double = i % 3 == 0 ? -1e8 : 1
            return sign / Double(i + 1)
        }
        var serial = 0.0
        for t in terms { serial += t }
        for t in [1, 2, 3] {
            Parallel.threads = t
            XCTAssertEqual(Parallel.sum(terms.count) { terms[$0] }, serial)
        }
    }

    /// A batch big enough that every parallel path splits (rows, label groups, column blocks of db): the loss and
    /// every gradient are bit-identical with one and with two threads.
    func testTrainingStepIsBitIdenticalOnOneAndTwoThreads() {
        func step(threads: Int, decoder: DecoderKind) -> (Double, [Float]) {
            Parallel.threads = threads
            var c = PVConfig(genes: 700, targets: 6)
            c.hidden = 24; c.latentInv = 7; c.latentResp = 5; c.decoder = decoder; c.nodeHidden = 3
            let n1 = 40
            let m = PerturbedVAE(config: c, maxRows: 2 * n1)
            m.store.initialise(seed: 5)
            var rng = RNG(seed: 9)
            for i in 0..<(2 * n1 * c.genes) { m.x.p[i] = rng.normal() }
            for i in 0..<(2 * n1 * c.latentInv) { m.epsInv.p[i] = rng.normal() }
            for i in 0..<(2 * n1 * c.latentResp) { m.epsResp.p[i] = rng.normal() }
            m.unets.setLabel(0, targets: [])
            for u in 1..<6 { m.unets.setLabel(u, targets: [u - 1]) }
            for r in 0..<n1 { m.uIdx.p[r] = 1 + (r * 7) % 5; m.uIdx.p[n1 + r] = 0 }
            m.store.grads.zero()
            let t = m.forward(n1: n1, n2: n1, labels: 6, beta: 0.5, alpha: 0.3)
            m.backward(beta: 0.5, alpha: 0.3)
            return (t.loss, m.store.grads.array)
        }
        for dec in [DecoderKind.mlp, .additive] {
            let (l1, g1) = step(threads: 1, decoder: dec), (l2, g2) = step(threads: 2, decoder: dec)
            XCTAssertTrue(l1.isFinite)
            XCTAssertEqual(l1, l2, "\(dec)")
            XCTAssertEqual(g1, g2, "\(dec)")
            XCTAssertGreaterThan(g1.filter { $0 != 0 }.count, g1.count / 2)
        }
    }
}
