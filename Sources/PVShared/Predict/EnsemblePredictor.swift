import Foundation

/// The members of an ensemble model file (`pv-train --ensemble N`) as one predictor: the predicted mean is the mean
/// of the members' expectations (then clamped at 0); cell k is drawn by member k mod N, so the cells are a sample
/// of the ensemble's mixture.
public final class EnsemblePredictor: Predictor {
    public let members: [PVPredictor]
    public var genes: Int { members[0].genes }

    public init(members: [PVPredictor]) {
        precondition(!members.isEmpty)
        self.members = members
    }

    public func cells(condition: String, sources: [Int], expr: UnsafePointer<Float>, rng: inout RNG,
                      out: UnsafeMutablePointer<Float>) throws {
        let N = members.count, G = genes
        for (m, p) in members.enumerated() {
            let mine = stride(from: m, to: sources.count, by: N).map { $0 }
            if mine.isEmpty { continue }
            var buf = [Float](repeating: 0, count: mine.count * G)
            try buf.withUnsafeMutableBufferPointer { b in
                try p.cells(condition: condition, sources: mine.map { sources[$0] }, expr: expr, rng: &rng, out: b.baseAddress!)
                for (i, k) in mine.enumerated() { (out + k * G).update(from: b.baseAddress! + i * G, count: G) }
            }
        }
    }

    public func mean(condition: String, controls: [Int], expr: UnsafePointer<Float>, controlMean: [Double],
                     rng: inout RNG) throws -> [Double] {
        try rawMean(condition: condition, controls: controls, expr: expr, rng: &rng).map { max(0, $0) }
    }

    /// Mean over members of their unclamped expectations; every member starts from the same generator state (common
    /// random numbers, so member differences are model differences).
    public func rawMean(condition: String, controls: [Int], expr: UnsafePointer<Float>, rng: inout RNG) throws -> [Double] {
        var acc = [Double](repeating: 0, count: genes)
        let start = rng
        for p in members {
            var r = start
            let m = try p.rawMean(condition: condition, controls: controls, expr: expr, rng: &r)
            for j in 0..<genes { acc[j] += m[j] }
            rng = r
        }
        return acc.map { $0 / Double(members.count) }
    }
}
