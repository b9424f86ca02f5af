import Foundation

/// pv-score's outputs: the long per-condition TSV, the JSON document and the side-by-side summary.
public enum ScoreReport {
    static func fmt(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return String(format: "%.8g", x)
    }

    /// One row per prediction and condition: prediction, condition, group, n_cells, then every metric.
    public static func table(_ r: ScoreResult) -> TSVTable {
        var t = TSVTable(header: ["prediction", "condition", "group", "n_cells"] + ScoreMetric.allCases.map { $0.rawValue })
        t.rows = r.conditions.map { s in
            [s.prediction, s.condition, s.group, String(s.nCells)] + ScoreMetric.allCases.map { fmt(s.values[$0]!) }
        }
        return t
    }

    /// The whole result as JSON: metrics with their direction, per prediction the per-condition rows and the
    /// group means, and the DE genes used.
    public static func json(_ r: ScoreResult, options: ScoreOptions) throws -> Data {
        func num(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        func metrics(_ v: [ScoreMetric: Double]) -> [String: Any] {
            Dictionary(uniqueKeysWithValues: ScoreMetric.allCases.map { ($0.rawValue, num(v[$0]!)) })
        }
        var preds: [[String: Any]] = []
        for name in r.predictions {
            let conds: [[String: Any]] = r.conditions.filter { $0.prediction == name }.map {
                ["condition": $0.condition, "group": $0.group, "n_cells": $0.nCells, "n_pred": $0.nPred,
                 "metrics": metrics($0.values)]
            }
            var groups: [String: Any] = [:]
            for g in r.groups where g.prediction == name {
                groups[g.group] = ["n_conditions": g.nConditions, "metrics": metrics(g.values)]
            }
            preds.append(["name": name, "conditions": conds, "groups": groups])
        }
        let doc: [String: Any] = [
            "tool": ToolContext.name, "version": pvVersion, "command": ToolContext.commandLine,
            "set": options.set, "n_de": options.nDE, "l2_genes": options.l2Genes, "block_size": options.blockSize,
            "metrics": ScoreMetric.allCases.map { ["name": $0.rawValue, "better": $0.higherIsBetter ? "higher" : "lower"] },
            "predictions": preds,
            "de_genes": r.de.mapValues { $0.map { r.geneNames[$0] } },
        ]
        do { return try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted]) } catch {
            throw PVError.io(file: "json", "cannot encode the scores: \(error)")
        }
    }

    /// One row per group and metric, one column per prediction; `*` marks the best value of a row
    /// (all tied values when several share it).
    public static func summary(_ r: ScoreResult) -> String {
        let groupNames = uniqued(r.groups.map { $0.group })
        var lines: [[String]] = [["group", "metric", "better"] + r.predictions]
        for g in groupNames {
            let cells = r.predictions.map { p in r.groups.first { $0.group == g && $0.prediction == p } }
            let full = cells.compactMap { $0?.nConditions }.max() ?? 0
            lines.append([g, "n_conditions", ""] + cells.map { $0.map { String($0.nConditions) + ($0.nConditions < full ? "!" : " ") } ?? "- " })
            for m in ScoreMetric.allCases {
                // Only predictions that cover every condition of the group compete for the star.
                let eligible = cells.compactMap { $0 }.filter { $0.nConditions == full }.compactMap { $0.values[m] }.filter { $0.isFinite }
                let best = m.higherIsBetter ? eligible.max() : eligible.min()
                var row = [g, m.rawValue, m.higherIsBetter ? "higher" : "lower"]
                for c in cells {
                    guard let c, let v = c.values[m] else { row.append("- "); continue }
                    let s = String(format: "%.4f", v)
                    let star = r.predictions.count > 1 && c.nConditions == full && best != nil && String(format: "%.4f", best!) == s
                    row.append(s + (star ? "*" : " "))
                }
                lines.append(row)
            }
        }
        var widths = [Int](repeating: 0, count: lines[0].count)
        for l in lines { for (i, f) in l.enumerated() { widths[i] = max(widths[i], f.count) } }
        return lines.map { l in
            l.enumerated().map { i, f in
                i < 3 ? f.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                      : String(repeating: " ", count: widths[i] - f.count) + f
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n* best of the row (higher or lower is better as marked); means over the conditions of each group; "
            + "! a prediction that lacks some of the group's conditions (not starred)\n"
    }

    static func uniqued(_ a: [String]) -> [String] {
        var seen = Set<String>(); return a.filter { seen.insert($0).inserted }
    }
}
