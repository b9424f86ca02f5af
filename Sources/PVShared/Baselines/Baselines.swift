import Foundation

/// The honest yardsticks (DESIGN.md §5, §6) as model kinds that share pv's model file and pv-predict.
/// Each predicts a mean change from control per condition; pv-predict shifts real control cells by it.
public enum Baselines {
    /// Kinds handled here (pv-train --model KIND).
    public static let kinds = ["control", "mean", "additive"]

    /// Fits a baseline on the training cells of `split` and returns its model file.
    public static func train(kind: String, expr: UnsafeBufferPointer<Float>, rows: Int, cols: Int,
                             split: SplitTable, genes: [String], options: [String: Any] = [:]) throws -> ModelFile {
        throw PVError.usage("baseline \(kind) not yet implemented")
    }

    /// The predicted mean change from the control mean for a canonical condition (length = genes).
    public static func delta(model: ModelFile, condition: String) throws -> [Float] {
        throw PVError.usage("baseline \(model.kind) not yet implemented")
    }
}
