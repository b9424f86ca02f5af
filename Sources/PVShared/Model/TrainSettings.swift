import Foundation

/// Training settings (pv-train options; defaults as the paper, DESIGN.md §5).
public struct TrainSettings {
    public var epochs = TrainOptions.epochs.defaultValue
    /// Total optimiser steps; when set it replaces `epochs` (which become ceil(steps / batches per epoch)).
    public var steps = TrainOptions.steps.defaultValue
    public var batch = TrainOptions.batch.defaultValue
    public var lr = Float(TrainOptions.lr.defaultValue)
    public var beta = Float(TrainOptions.beta.defaultValue)
    public var alpha = Float(TrainOptions.alpha.defaultValue)
    public var seed = UInt64(TrainOptions.seed.defaultValue)
    public var checkpointEvery = TrainOptions.checkpointEvery.defaultValue
    public var selectOnVal = !TrainOptions.noValSelect.defaultValue
    /// The validation loss that selects the checkpoint (see `ValMetric`).
    public var valMetric = TrainOptions.valMetric.defaultValue
    /// Hidden test hook: stop (as if killed) after this many epochs, leaving the checkpoint.
    public var stopAfterEpoch = TrainOptions.stopAfterEpoch.defaultValue
    public init() {}

    /// The settings a parsed pv-train command line asks for; --batch is lowered (with a warning) to the number of
    /// perturbed training cells when it exceeds it.
    public init(_ o: Options, trainCells: Int) throws {
        self.init()
        // Defaults: the benchmarked budget (--steps 4000, lr 1e-3); --paper: the paper's 100 epochs at lr 1e-4.
        let paper = o[TrainOptions.paper]
        epochs = o[TrainOptions.epochs]
        steps = o[TrainOptions.steps] ?? (paper || o.given(TrainOptions.epochs) ? nil : TrainOptions.defaultSteps)
        batch = o[TrainOptions.batch]
        if batch > trainCells {
            warn("--batch lowered from \(batch) to \(trainCells): there are only \(trainCells) perturbed training cells")
            batch = trainCells
        }
        lr = Float(paper && !o.given(TrainOptions.lr) ? 1e-4 : o[TrainOptions.lr]); beta = Float(o[TrainOptions.beta]); alpha = Float(o[TrainOptions.alpha])
        seed = UInt64(o[TrainOptions.seed])
        selectOnVal = !o[TrainOptions.noValSelect]
        valMetric = o[TrainOptions.valMetric]
        checkpointEvery = o[TrainOptions.checkpointEvery]
        stopAfterEpoch = o[TrainOptions.stopAfterEpoch]
        if stopAfterEpoch != nil && checkpointEvery == 0 { throw PVError.usage("--stop-after-epoch needs --checkpoint-every") }
        if o[TrainOptions.initOnly] { epochs = 0; steps = nil }
    }

    public var dict: [String: Any] {
        var d: [String: Any] = ["epochs": epochs, "batch": batch, "lr": Double(lr), "beta": Double(beta),
                                "alpha": Double(alpha), "seed": Int(seed), "select_on_val": selectOnVal,
                                "val_metric": valMetric.rawValue]
        if let steps { d["steps"] = steps }
        return d
    }
}

/// Annealing as fractions of the T training steps (bench/reference/pvae.py): β is 0 until 0.1·T then linear to its final
/// value at T; α is 0 until 0.05·T then linear to its final value at 0.5·T.
public enum Annealing {
    public static func beta(step t: Int, total T: Int, final b: Float) -> Float {
        let s = 0.1 * Double(T)
        if Double(t) < s { return 0 }
        return b * Float(min(1, (Double(t) - s) / max(Double(T) - s, 1)))
    }
    public static func alpha(step t: Int, total T: Int, final a: Float) -> Float {
        let s = 0.05 * Double(T), e = 0.5 * Double(T)
        if Double(t) < s { return 0 }
        return a * Float(min(1, (Double(t) - s) / max(e - s, 1)))
    }
}
