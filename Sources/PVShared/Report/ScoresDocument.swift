import Foundation

/// A score as pv-score writes it: a plain number, or a summary over replicates (mean with an optional standard
/// deviation and interval). Unknown shapes read as missing.
public struct ScoreValue {
    public var mean: Double?
    public var sd: Double?
    public var lo: Double?
    public var hi: Double?

    public init(mean: Double?, sd: Double? = nil, lo: Double? = nil, hi: Double? = nil) {
        self.mean = mean; self.sd = sd; self.lo = lo; self.hi = hi
    }

    /// Reads a JSON value: a number, null, or an object with mean/value, sd/std, lo/hi or ci_lo/ci_hi or ci: [lo, hi].
    public init(json: Any?) {
        func d(_ x: Any?) -> Double? { (x as? NSNumber).map { $0.doubleValue }.flatMap { $0.isFinite ? $0 : nil } }
        if let n = d(json) { self.init(mean: n); return }
        guard let o = json as? [String: Any] else { self.init(mean: nil); return }
        let ci = o["ci"] as? [Any] ?? o["ci95"] as? [Any]
        self.init(mean: d(o["mean"]) ?? d(o["value"]) ?? d(o["estimate"]),
                  sd: d(o["sd"]) ?? d(o["std"]),
                  lo: d(o["lo"]) ?? d(o["ci_lo"]) ?? d(o["low"]) ?? (ci?.count == 2 ? d(ci?[0]) : nil),
                  hi: d(o["hi"]) ?? d(o["ci_hi"]) ?? d(o["high"]) ?? (ci?.count == 2 ? d(ci?[1]) : nil))
    }
}

/// pv-score's `--json` document, read generically: whatever predictions, groups and metrics it holds, so reports
/// render older and newer score files alike. Entries the report does not know stay in `extra` and are shown as tables.
public struct ScoresDocument {
    public struct Metric { public var name: String; public var higherIsBetter: Bool }
    public struct Group { public var nConditions: Int?; public var metrics: [String: ScoreValue] }
    /// One predictor against the reference on one metric over the conditions of a group: the win rate and the mean
    /// difference (predictor − reference) with its bootstrap 95% interval.
    public struct Paired {
        public var prediction: String, group: String, metric: String
        public var nConditions: Int?
        public var winRate: Double?
        public var difference: ScoreValue
    }
    public struct ConditionScore { public var condition: String; public var group: String; public var metrics: [String: ScoreValue] }
    public struct Predictor {
        public var name: String
        /// Replicates (training seeds) averaged in its group values; 1 for a single prediction.
        public var replicates: Int
        public var groups: [String: Group]
        public var conditions: [ConditionScore]
    }

    public var set: String
    /// Control cells of the deltas: "all", or "test" (pv-score --control-set).
    public var controlSet: String
    /// The predictor the paired comparisons are against (pv-score --reference), when scores.json names one.
    public var reference: String?
    /// Paired comparisons with the reference, per predictor, group and metric.
    public var paired: [Paired]
    public var metrics: [Metric]
    public var predictors: [Predictor]
    /// DE genes per condition (names), as pv-score used them.
    public var deGenes: [String: [String]]
    /// Tool, version and command that wrote the scores.
    public var provenance: [String]
    /// Top-level entries not read above (e.g. a ceiling or paired comparisons), by key.
    public var extra: [(key: String, value: Any)]

    static let known: Set<String> = ["tool", "version", "command", "set", "n_de", "l2_genes", "block_size", "metrics",
                                     "predictions", "de_genes", "control_set", "seed", "reference", "paired"]

    /// Parses the document; `name` is used in messages.
    public init(data: Data, name: String) throws {
        guard let obj = try? JSONSerialization.jsonObject(with: data), let doc = obj as? [String: Any] else {
            throw PVError.badInput(file: name, "not a JSON object (expected pv-score --json output)")
        }
        guard let preds = doc["predictions"] as? [[String: Any]] else {
            throw PVError.badInput(file: name, "no 'predictions' array: not pv-score --json output")
        }
        set = doc["set"] as? String ?? "test"
        controlSet = doc["control_set"] as? String ?? "all"
        reference = doc["reference"] as? String
        func num(_ x: Any?) -> Double? { (x as? NSNumber).map { $0.doubleValue }.flatMap { $0.isFinite ? $0 : nil } }
        paired = (doc["paired"] as? [[String: Any]] ?? []).compactMap { o in
            guard let p = o["prediction"] as? String, let g = o["group"] as? String, let m = o["metric"] as? String else { return nil }
            var diff = ScoreValue(json: o)
            diff.mean = num(o["mean_difference"]) ?? diff.mean
            return Paired(prediction: p, group: g, metric: m, nConditions: (o["n_conditions"] as? NSNumber)?.intValue,
                          winRate: num(o["win_rate"]), difference: diff)
        }
        var ms: [Metric] = []
        for m in doc["metrics"] as? [Any] ?? [] {
            if let o = m as? [String: Any], let n = o["name"] as? String {
                ms.append(Metric(name: n, higherIsBetter: (o["better"] as? String) != "lower"))
            } else if let n = m as? String {
                ms.append(Metric(name: n, higherIsBetter: true))
            }
        }
        predictors = try preds.enumerated().map { i, p in
            guard let n = p["name"] as? String else { throw PVError.badInput(file: name, "prediction \(i + 1) has no 'name'") }
            var groups: [String: Group] = [:]
            for (g, v) in p["groups"] as? [String: Any] ?? [:] {
                guard let o = v as? [String: Any] else { continue }
                groups[g] = ScoresDocument.group(o)
            }
            let conds: [ConditionScore] = (p["conditions"] as? [[String: Any]] ?? []).compactMap { c in
                guard let cn = c["condition"] as? String else { return nil }
                let m = (c["metrics"] as? [String: Any] ?? [:]).mapValues { ScoreValue(json: $0) }
                return ConditionScore(condition: cn, group: c["group"] as? String ?? "", metrics: m)
            }
            return Predictor(name: n, replicates: (p["replicates"] as? NSNumber)?.intValue ?? 1, groups: groups, conditions: conds)
        }
        // Metrics not declared in 'metrics' (older or newer files) still appear, after the declared ones.
        var seen = Set(ms.map(\.name))
        for p in predictors { for g in p.groups.values { for k in g.metrics.keys.sorted() where seen.insert(k).inserted {
            ms.append(Metric(name: k, higherIsBetter: true))
        } } }
        metrics = ms
        deGenes = (doc["de_genes"] as? [String: Any] ?? [:]).compactMapValues { $0 as? [String] }
        provenance = ["tool", "version", "command"].compactMap { k in (doc[k] as? String).map { "\(k): \($0)" } }
        extra = doc.keys.sorted().filter { !ScoresDocument.known.contains($0) }.map { ($0, doc[$0]!) }
    }

    /// A group entry: {n_conditions, metrics: {...}, sd: {...}, calibrated: {...}}; the sd over replicates joins
    /// each mean, and calibrated metrics read as `cal_NAME` (as pv-score's summary names them).
    static func group(_ o: [String: Any]) -> Group {
        let n = (o["n_conditions"] as? NSNumber)?.intValue
        var m = (o["metrics"] as? [String: Any] ?? [:]).mapValues { ScoreValue(json: $0) }
        for (k, v) in o["sd"] as? [String: Any] ?? [:] { if m[k]?.sd == nil { m[k]?.sd = ScoreValue(json: v).mean } }
        for (k, v) in o["calibrated"] as? [String: Any] ?? [:] { m["cal_" + k] = ScoreValue(json: v) }
        return Group(nConditions: n, metrics: m)
    }

    /// The predictor that stands for the ceiling (pv-score's pseudo-predictor: half the true cells predicting the
    /// other half); it is shown beside the others and never competes for best.
    public static let ceiling = "ceiling"

    /// Groups in reading order: held-out doubles first (the test that matters), then singles, then the rest.
    public var groupNames: [String] {
        let all = Set(predictors.flatMap { $0.groups.keys })
        let rank = ["double": 0, "combo_seen2": 1, "combo_seen1": 2, "combo_seen0": 3, "single": 4, "unseen_single": 5]
        return all.sorted { (rank[$0] ?? 9, $0) < (rank[$1] ?? 9, $1) }
    }
}
