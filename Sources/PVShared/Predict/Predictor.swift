import Foundation

/// What pv-predict needs of a model: cells of a condition built from given control cells, and the condition's
/// predicted mean, which must not depend on which control cells were drawn (pv-score reads it from means.npy).
public protocol Predictor: AnyObject {
    /// Genes (columns) of every predicted row.
    var genes: Int { get }
    /// One predicted cell per entry of `sources` (rows of `expr`), each ≥ 0, into `out` (sources.count x genes).
    func cells(condition: String, sources: [Int], expr: UnsafePointer<Float>, rng: inout RNG,
               out: UnsafeMutablePointer<Float>) throws
    /// The predicted mean of `condition` over every training control cell (`controls`, whose mean is
    /// `controlMean`), clamped at 0.
    func mean(condition: String, controls: [Int], expr: UnsafePointer<Float>, controlMean: [Double],
              rng: inout RNG) throws -> [Double]
}

/// The cells of a mean-shift prediction: max(0, x0 + d) for each control cell x0 = row `sources[k]` of `expr`, into
/// row k of `out` (the clamp rule of PredictionWriter). The sum is taken in the change's own precision (T), so a
/// Float change and a Double change each give the bits they always gave.
func shiftedControlCells<T: BinaryFloatingPoint>(change d: [T], sources: [Int], expr: UnsafePointer<Float>,
                                                 genes G: Int, out: UnsafeMutablePointer<Float>) {
    d.withUnsafeBufferPointer { dp in
        for (k, s) in sources.enumerated() {
            let x = expr + s * G, o = out + k * G
            for j in 0..<G { o[j] = Float(max(0, T(x[j]) + dp[j])) }
        }
    }
}

/// A mean-shift baseline (pv-train --model control|mean|additive|linear): the predicted change d of a condition
/// added to control cells. Its mean is exactly max(0, mean of the training controls + d); its cells are
/// max(0, x0 + d) for each drawn control cell x0 (see PredictionWriter.clampCells), a vehicle for the
/// distribution metrics only.
public final class BaselinePredictor: Predictor {
    public let model: ModelFile
    let file: String
    public var genes: Int { model.genes.count }

    public init(model: ModelFile, file: String) { self.model = model; self.file = file }

    /// The predicted change from the control mean, checked for length.
    public func delta(_ condition: String) throws -> [Float] {
        let d = try Baselines.delta(model: model, condition: condition)
        guard d.count == genes else {
            throw PVError.badInput(file: file, "baseline delta for \(condition) has \(d.count) values, expected \(genes)")
        }
        return d
    }

    public func cells(condition: String, sources: [Int], expr: UnsafePointer<Float>, rng: inout RNG,
                      out: UnsafeMutablePointer<Float>) throws {
        shiftedControlCells(change: try delta(condition), sources: sources, expr: expr, genes: genes, out: out)
    }

    public func mean(condition: String, controls: [Int], expr: UnsafePointer<Float>, controlMean: [Double],
                     rng: inout RNG) throws -> [Double] {
        let d = try delta(condition)
        return (0..<genes).map { max(0, controlMean[$0] + Double(d[$0])) }
    }
}
