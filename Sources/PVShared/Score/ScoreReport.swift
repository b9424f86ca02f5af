import Foundation

/// pv-score's outputs: the long per-condition TSV, the JSON document and the side-by-side summary.
public enum ScoreReport {
    /// A TSV value: undefined (NaN) values are empty.
    static func fmt(_ x: Double) -> String {
        if x.isNaN { return "" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return String(format: "%.8g", x)
    }

    /// One row per prediction, replicate and condition: prediction, condition, group, n_cells, replicate, then
    /// every metric (empty where undefined).
    public static func table(_ r: ScoreResult) -> TSVTable {
        var t = TSVTable(header: ["prediction", "condition", "group", "n_cells", "replicate"] + ScoreMetric.allCases.map { $0.rawValue })
        t.rows = r.conditions.map { s in
            [s.prediction, s.condition, s.group, String(s.nCells), String(s.replicate)] + ScoreMetric.allCases.map { fmt(s.values[$0]!) }
        }
        return t
    }

    /// The whole result as JSON: metrics with their direction, per prediction the per-condition rows and the
    /// group scores per replicate, the paired comparison with the reference, and the DE genes used.
    public static func json(_ r: ScoreResult, options: ScoreSettings) throws -> Data {
        func num(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        func metrics(_ v: [ScoreMetric: Double]) -> [String: Any] {
            Dictionary(uniqueKeysWithValues: v.map { ($0.key.rawValue, num($0.value)) })
        }
        var preds: [[String: Any]] = []
        for name in r.predictions {
            let conds: [[String: Any]] = r.conditions.filter { $0.prediction == name }.map {
                ["condition": $0.condition, "group": $0.group, "n_cells": $0.nCells, "n_pred": $0.nPred,
                 "replicate": $0.replicate, "metrics": metrics($0.values)]
            }
            var groups: [String: Any] = [:]
            for g in r.groups where g.prediction == name {
                var entry = groups[g.group] as? [String: Any] ?? ["n_conditions": g.nConditions, "replicates": [[String: Any]]()]
                entry["replicates"] = (entry["replicates"] as! [[String: Any]]) + [["replicate": g.replicate, "metrics": metrics(g.values),
                                                                                  "calibrated": metrics(g.calibrated)]]
                groups[g.group] = entry
            }
            // Mean (and sd over replicates) per group.
            for (gname, e) in groups {
                var entry = e as! [String: Any]
                let reps = r.groups.filter { $0.prediction == name && $0.group == gname }
                var mean: [ScoreMetric: Double] = [:], sd: [ScoreMetric: Double] = [:]
                for m in ScoreMetric.allCases { (mean[m], sd[m]) = meanSD(reps.map { $0.values[m]! }) }
                entry["metrics"] = metrics(mean)
                entry["sd"] = metrics(sd)
                var cal: [ScoreMetric: Double] = [:]
                for m in ScoreMetric.calibrated { cal[m] = meanSD(reps.map { $0.calibrated[m]! }).mean }
                entry["calibrated"] = metrics(cal)
                groups[gname] = entry
            }
            preds.append(["name": name, "replicates": r.replicates[name] ?? 1, "conditions": conds, "groups": groups])
        }
        let paired: [[String: Any]] = r.paired.map {
            ["prediction": $0.prediction, "group": $0.group, "metric": $0.metric.rawValue, "n_conditions": $0.nConditions,
             "win_rate": num($0.winRate), "mean_difference": num($0.meanDifference), "ci95": [num($0.low), num($0.high)]]
        }
        var doc: [String: Any] = [
            "tool": ToolContext.name, "version": pvVersion, "command": ToolContext.commandLine,
            "set": options.set.rawValue, "n_de": options.nDE, "l2_genes": options.l2Genes, "block_size": options.blockSize,
            "control_set": options.controlSet.rawValue, "seed": options.seed,
            "metrics": ScoreMetric.allCases.map { ["name": $0.rawValue, "better": $0.higherIsBetter ? "higher" : "lower"] },
            "predictions": preds, "paired": paired,
            "de_genes": r.de.mapValues { $0.map { r.geneNames[$0] } },
        ]
        doc["reference"] = r.reference ?? NSNull()
        if let run = RunStamp.current { doc["run"] = run }
        do { return try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted]) } catch {
            throw PVError.io(file: "json", "cannot encode the scores: \(error)")
        }
    }

    /// Mean and sample sd (ddof 1; NaN for one value) of the finite values.
    public static func meanSD(_ v: [Double]) -> (mean: Double, sd: Double) {
        let f = v.filter { $0.isFinite }
        guard !f.isEmpty else { return (.nan, .nan) }
        let m = f.reduce(0, +) / Double(f.count)
        guard f.count > 1 else { return (m, .nan) }
        return (m, (f.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(f.count - 1)).squareRoot())
    }

    /// One row per group and metric (then the calibrated rows), one column per prediction (mean ± sd over its
    /// replicates) and the ceiling last; `*` marks the best prediction of a row (all tied values when several
    /// share it; the ceiling never). Under it, the paired comparison with the reference.
    public static func summary(_ r: ScoreResult) -> String {
        let groupNames = uniqued(r.groups.map { $0.group })
        let preds = r.predictions
        let label = preds.map { (r.replicates[$0] ?? 1) > 1 ? "\($0) (\(r.replicates[$0]!) reps)" : $0 }
        var lines: [[String]] = [["group", "metric", "better"] + label]
        func cell(_ v: Double, _ sd: Double) -> String {
            guard v.isFinite else { return "–" }
            let r = abs(v) < 5e-5 ? 0 : v   // no "-0.0000"
            return String(format: "%.4f", r) + (sd.isFinite ? String(format: "±%.4f", sd) : "")
        }
        for g in groupNames {
            let reps = preds.map { p in r.groups.filter { $0.group == g && $0.prediction == p } }
            let n = reps.map { $0.first?.nConditions }
            let full = n.enumerated().filter { preds[$0.offset] != Scorer.ceiling }.compactMap { $0.element }.max() ?? 0
            lines.append([g, "n_conditions", ""] + n.map { $0.map { String($0) + ($0 < full ? "!" : " ") } ?? "- " })
            let rows: [(String, Bool, ([GroupScore]) -> [Double])] =
                ScoreMetric.allCases.map { m in (m.rawValue, m.higherIsBetter, { $0.map { $0.values[m]! } }) }
                + ScoreMetric.calibrated.map { m in ("cal_" + m.rawValue, true, { $0.map { $0.calibrated[m]! } }) }
            for (name, higher, get) in rows {
                let stats = reps.map { meanSD(get($0)) }
                if stats.allSatisfy({ !$0.mean.isFinite }) { continue }
                // Only predictions that cover every condition of the group compete for the star.
                let eligible = stats.indices.filter { preds[$0] != Scorer.ceiling && n[$0] == full && stats[$0].mean.isFinite }
                    .map { String(format: "%.4f", stats[$0].mean) }
                let best = higher ? eligible.max { Double($0)! < Double($1)! } : eligible.min { Double($0)! < Double($1)! }
                var row = [g, name, higher ? "higher" : "lower"]
                for (i, s) in stats.enumerated() {
                    if reps[i].isEmpty { row.append("- "); continue }
                    let star = preds[i] != Scorer.ceiling && preds.count > 2 && n[i] == full && best == String(format: "%.4f", s.mean)
                    row.append(cell(s.mean, s.sd) + (star ? "*" : " "))
                }
                lines.append(row)
            }
        }
        var out = align(lines, left: 3)
        out += "* best of the row (higher or lower is better as marked; ceiling excluded); means over the conditions of each "
            + "group (± sd over replicates); – undefined; ! a prediction that lacks some of the group's conditions (not "
            + "starred); ceiling: half of each condition's true cells predicting the other half; cal_m = (m − m_nochange) "
            + "/ (m_ceiling − m_nochange), undefined where the ceiling does not beat no change\n"
        if let ref = r.reference, !r.paired.isEmpty {
            out += "\npaired comparison with \(ref), condition by condition (replicates averaged first): win rate and mean "
                + "difference (prediction − \(ref)) with a bootstrap 95% interval over conditions\n"
            var pl: [[String]] = [["group", "metric", "prediction", "n", "win_rate", "mean_diff", "95% interval"]]
            for p in r.paired {
                pl.append([p.group, p.metric.rawValue, p.prediction, String(p.nConditions), String(format: "%.2f", p.winRate),
                           String(format: "%+.4f", p.meanDifference), String(format: "[%+.4f, %+.4f]", p.low, p.high)])
            }
            out += align(pl, left: 3)
        }
        return out
    }

    static func align(_ lines: [[String]], left: Int) -> String {
        var widths = [Int](repeating: 0, count: lines[0].count)
        for l in lines { for (i, f) in l.enumerated() { widths[i] = max(widths[i], f.count) } }
        return lines.map { l in
            l.enumerated().map { i, f in
                i < left ? f.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                         : String(repeating: " ", count: widths[i] - f.count) + f
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    static func uniqued(_ a: [String]) -> [String] {
        var seen = Set<String>(); return a.filter { seen.insert($0).inserted }
    }
}
