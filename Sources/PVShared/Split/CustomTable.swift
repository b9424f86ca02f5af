import Foundation

/// Reads a custom split table: `condition<TAB>set[<TAB>group]`, with or without a header row (`condition`, `set`,
/// optional `group`). Conditions are written as labels (any gene order, the configured separator and control label)
/// and must all occur in `known`; set is train, val, test, or empty / `none` / `-` for unused.
public func readCustomSplit(_ path: String, syntax: LabelSyntax, known: Set<String>) throws -> [String: (set: String, group: String?)] {
    let r = try LineReader(path: path)
    var out: [String: (set: String, group: String?)] = [:]
    var first = true
    while let line = try r.nextString() {
        if line.hasPrefix("#") || line.isEmpty { continue }
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        if first {
            first = false
            if f.first == "condition" { continue }
        }
        guard f.count == 2 || f.count == 3 else {
            throw PVError.badInput(file: r.name, line: r.lineNumber, "expected condition<TAB>set[<TAB>group], found \(f.count) field\(f.count == 1 ? "" : "s")")
        }
        let c = try syntax.strictCanonical(f[0]) { PVError.badInput(file: r.name, line: r.lineNumber, $0) }
        var set = f[1].trimmingCharacters(in: .whitespaces)
        if set == "none" || set == "-" { set = "" }
        guard ["train", "val", "test", ""].contains(set) else {
            throw PVError.badInput(file: r.name, line: r.lineNumber, "set must be train, val, test or none, got '\(f[1])'")
        }
        guard known.contains(c) else {
            throw PVError.badInput(file: r.name, line: r.lineNumber, "condition '\(f[0])' does not occur in the input")
        }
        let group = f.count == 3 && !f[2].isEmpty ? f[2] : nil
        if let prev = out[c], prev.set != set || prev.group != group {
            throw PVError.badInput(file: r.name, line: r.lineNumber, "condition '\(c)' is listed twice with different assignments")
        }
        out[c] = (set, group)
    }
    if out.isEmpty { throw PVError.badInput(file: r.name, "empty custom split table (expected condition<TAB>set rows)") }
    return out
}

/// The summary pv-split prints on stderr: conditions and cells per set and group.
public func splitSummary(conditions: [String], sets: [String], groups: [String]) -> [String] {
    struct Key: Hashable { var set: String; var group: String }
    var cells: [Key: Int] = [:], conds: [Key: Set<String>] = [:]
    for i in conditions.indices {
        let k = Key(set: sets[i], group: groups[i])
        cells[k, default: 0] += 1
        conds[k, default: []].insert(conditions[i])
    }
    let setOrder = ["train": 0, "val": 1, "test": 2, "": 3]
    let keys = cells.keys.sorted { (setOrder[$0.set] ?? 4, $0.group) < (setOrder[$1.set] ?? 4, $1.group) }
    var rows = [["set", "group", "conditions", "cells"]]
    for k in keys { rows.append([k.set.isEmpty ? "none" : k.set, k.group, "\(conds[k]!.count)", "\(cells[k]!)"]) }
    rows.append(["all", "", "\(Set(conditions).count)", "\(conditions.count)"])
    let w = (0..<4).map { c in rows.map { $0[c].count }.max()! }
    return rows.map { r in
        (0..<4).map { c in c < 2 ? r[c].padding(toLength: w[c], withPad: " ", startingAt: 0)
                                 : String(repeating: " ", count: w[c] - r[c].count) + r[c] }.joined(separator: "  ")
    }
}
