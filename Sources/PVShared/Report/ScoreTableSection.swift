import Foundation

/// The side-by-side score table: per group, one row per metric and one column per predictor, the best value of each
/// row in bold, the ceiling (when scores.json has one) beside them, and every other result scores.json holds
/// (paired comparisons against a reference, for example) as further tables.
public enum ScoreTableSection {
    static func fmt(_ x: Double) -> String { x.isFinite ? String(format: "%.4f", x) : "nan" }

    /// A cell: the value, "± sd" when given, and the interval under it.
    static func cell(_ v: ScoreValue?) -> String {
        guard let v, let m = v.mean else { return "–" }
        var s = fmt(m)
        if let sd = v.sd { s += " ± " + fmt(sd) }
        if let lo = v.lo, let hi = v.hi { s += "<br/><span class=\"ci\">[\(fmt(lo)), \(fmt(hi))]</span>" }
        return s
    }

    public static func make(_ doc: ScoresDocument, reference: String) -> ReportSection {
        var body = ""
        // The ceiling is shown last and never competes for best.
        let preds = doc.predictors.filter { $0.name != ScoresDocument.ceiling } + doc.predictors.filter { $0.name == ScoresDocument.ceiling }
        let names = preds.map(\.name)
        let header = ["metric", "better"] + preds.map { $0.replicates > 1 ? "\($0.name) (\($0.replicates) seeds)" : $0.name }
        for g in doc.groupNames {
            let cells = preds.map { $0.groups[g] }
            let competes = names.map { $0 != ScoresDocument.ceiling }
            let full = zip(cells, competes).compactMap { $1 ? $0?.nConditions : nil }.max()
            var rows: [[(String, String)]] = []
            let counts = cells.enumerated().map { i, c -> (String, String) in
                guard let n = c?.nConditions else { return ("–", "") }
                return (String(n) + (competes[i] && full != nil && n < full! ? " (incomplete)" : ""), "")
            }
            rows.append([("conditions", ""), ("", "")] + counts)
            for m in doc.metrics {
                let vals = cells.map { $0?.metrics[m.name] }
                guard vals.contains(where: { $0?.mean != nil }) else { continue }
                // Only predictors that cover every condition of the group compete for best.
                let eligible = cells.indices.compactMap { i -> Double? in
                    guard competes[i], let c = cells[i], full == nil || c.nConditions == full else { return nil }
                    return vals[i]?.mean
                }.filter { $0.isFinite }
                let best = m.higherIsBetter ? eligible.max() : eligible.min()
                var row: [(String, String)] = [(xmlEscape(m.name), ""), (m.higherIsBetter ? "higher" : "lower", "")]
                for (i, v) in vals.enumerated() {
                    let isBest = competes[i] && eligible.count > 1 && best != nil && v?.mean.map(fmt) == fmt(best!)
                    let cls = [isBest ? "best" : "", names[i] == reference ? "ref" : ""].filter { !$0.isEmpty }.joined(separator: " ")
                    row.append((cell(v), cls))
                }
                rows.append(row)
            }
            body += "<div class=\"group\">" + HTML.heading("Group \(g) (set \(doc.set))") + HTML.table(header: header, rows: rows) + "</div>"
        }
        if doc.groupNames.isEmpty { body += HTML.note("scores.json has no group means.") }
        if !names.contains(reference) {
            body += HTML.note("No predictor named '\(reference)' in scores.json: the comparison with the additive yardstick needs pv-score --pred \(reference)=....")
        }
        body += pairedTables(doc, reference: reference)
        for e in doc.extra {
            body += HTML.heading(e.key.replacingOccurrences(of: "_", with: " ")) + JSONTables.render(e.value)
        }
        if !doc.provenance.isEmpty { body += "<p class=\"facts\">" + doc.provenance.map(xmlEscape).joined(separator: "<br/>") + "</p>" }
        let how = """
            Each column is a predictor, each row a metric averaged over the conditions of the group ('higher' or 'lower' \
            says which is better; ± is the sd over training seeds where there are several, cal_ rows place a score \
            between no change (0) and the ceiling (1)); the best value of a row is in bold, the reference \
            '\(reference)' is shaded. Judge held-out doubles first: control + the sum of the two single-gene changes \
            ('additive') matches or beats published deep models there, so a model earns its complexity only where it \
            beats additive. The ceiling column (half of each condition's true cells predicting the other half) says how \
            far any predictor could go given the noise of the truth. The paired comparison takes each condition's \
            difference to the reference: a 95% interval that excludes 0 is a difference the data support; a predictor \
            marked incomplete lacks some conditions and does not compete for best.
            """
        return ReportSection(id: "scores", title: "Scores", howToRead: how, body: body)
    }

    /// The paired comparison with the reference: per group, one row per metric and one column per predictor with the
    /// mean difference (predictor − reference), its 95% interval and the win rate; bold where the interval excludes
    /// 0 in the predictor's favour, red where it excludes 0 against it.
    static func pairedTables(_ doc: ScoresDocument, reference: String) -> String {
        let ref = doc.reference ?? reference
        guard !doc.paired.isEmpty else {
            return HTML.note("scores.json has no paired comparison with '\(ref)' (pv-score writes one with --reference, by default when a prediction is named additive).")
        }
        var s = HTML.heading("Paired comparison with \(ref), condition by condition")
        let better = Dictionary(doc.metrics.map { ($0.name, $0.higherIsBetter) }, uniquingKeysWith: { a, _ in a })
        let predNames = ScoreReport.uniqued(doc.paired.map(\.prediction))
        let groups = Set(doc.paired.map(\.group))
        for g in doc.groupNames.filter(groups.contains) + groups.subtracting(doc.groupNames).sorted() {
            let entries = doc.paired.filter { $0.group == g }
            var rows: [[(String, String)]] = []
            for m in ScoreReport.uniqued(entries.map(\.metric)) {
                var row: [(String, String)] = [(xmlEscape(m), "")]
                for p in predNames {
                    guard let e = entries.first(where: { $0.prediction == p && $0.metric == m }), let d = e.difference.mean else {
                        row.append(("–", "")); continue
                    }
                    var text = (d >= 0 ? "+" : "") + fmt(d)
                    var cls = ""
                    if let lo = e.difference.lo, let hi = e.difference.hi {
                        text += "<br/><span class=\"ci\">[\(fmt(lo)), \(fmt(hi))]</span>"
                        let up = better[m] ?? true
                        if lo > 0 || hi < 0 { cls = (lo > 0) == up ? "best" : "worse" }
                    }
                    if let w = e.winRate { text += "<br/><span class=\"ci\">wins \(String(format: "%.0f", w * 100))%</span>" }
                    row.append((text, cls))
                }
                rows.append(row)
            }
            let n = entries.compactMap(\.nConditions).max().map { ", \($0) conditions" } ?? ""
            s += "<div class=\"group\">" + HTML.heading("Group \(g)\(n): predictor − \(ref)") + HTML.table(header: ["metric"] + predNames, rows: rows) + "</div>"
        }
        return s
    }
}

/// Any JSON value as HTML: objects of scalars as two-column tables, arrays of objects and objects of objects as one
/// table with a row per entry, deeper nesting as headed sub-tables. For score entries this report does not know.
public enum JSONTables {
    static func scalar(_ x: Any) -> String? {
        if x is NSNull { return "–" }
        if type(of: x) == Bool.self, let b = x as? Bool { return b ? "true" : "false" }
        if let n = x as? NSNumber {
            // JSONSerialization gives true/false as NSNumbers of type char.
            if String(cString: n.objCType) == "c" { return n.boolValue ? "true" : "false" }
            let d = n.doubleValue
            return d == d.rounded() && abs(d) < 1e9 ? String(Int(d)) : String(format: "%.4g", d)
        }
        if let s = x as? String { return xmlEscape(s) }
        if let a = x as? [Any], a.allSatisfy({ !($0 is [Any]) && !($0 is [String: Any]) }) {
            return a.compactMap(scalar).joined(separator: ", ")
        }
        return nil
    }

    static func flat(_ o: [String: Any]) -> Bool { o.values.allSatisfy { scalar($0) != nil } }

    public static func render(_ v: Any, depth: Int = 0) -> String {
        if let s = scalar(v) { return "<p>\(s)</p>" }
        if let a = v as? [[String: Any]], a.allSatisfy(flat) {
            let keys = unionKeys(a)
            return HTML.table(header: keys, rows: a.map { o in keys.map { (o[$0].flatMap(scalar) ?? "", "") } })
        }
        if let o = v as? [String: Any] {
            if flat(o) { return HTML.table(header: ["", "value"], rows: o.keys.sorted().map { [(xmlEscape($0), ""), (scalar(o[$0]!)!, "")] }) }
            let inner = o.values.compactMap { $0 as? [String: Any] }
            if inner.count == o.count, inner.allSatisfy(flat) {
                let keys = unionKeys(inner)
                return HTML.table(header: [""] + keys, rows: o.keys.sorted().map { k in
                    let e = o[k] as! [String: Any]
                    return [(xmlEscape(k), "")] + keys.map { (e[$0].flatMap(scalar) ?? "", "") }
                })
            }
            guard depth < 4 else { return HTML.note("(nested too deeply to show)") }
            return o.keys.sorted().map { "<p><b>\(xmlEscape($0))</b></p>" + render(o[$0]!, depth: depth + 1) }.joined()
        }
        if let a = v as? [Any], depth < 4 { return a.map { render($0, depth: depth + 1) }.joined() }
        return HTML.note("(not shown)")
    }

    static func unionKeys(_ a: [[String: Any]]) -> [String] {
        var seen = Set<String>(), keys: [String] = []
        for o in a { for k in o.keys.sorted() where seen.insert(k).inserted { keys.append(k) } }
        return keys
    }
}
