import Foundation

/// An ensemble in one model file (`pv-train --ensemble N`): N PerturbedVAEs trained with seeds seed..seed+N−1.
/// Member 0's tensors keep their plain names and its meta is the file's meta (so every single-model reader, such as
/// pv-report or --grad-check, sees member 0); member k ≥ 1's tensors are `m{k}/NAME`. meta.json's `ensemble` is N
/// and `members` holds each member's seed, selected epoch and loss history. A file without `ensemble` has one member.
extension ModelFile {
    /// Tensor-name prefix of member `k`.
    public static func memberPrefix(_ k: Int) -> String { k == 0 ? "" : "m\(k)/" }

    /// Members in the file (1 for a file written before ensembles or with --ensemble 1).
    public var memberCount: Int {
        (meta["ensemble"] as? Int) ?? (meta["ensemble"] as? NSNumber)?.intValue ?? 1
    }

    /// Joins trained members into one file; `members[0]` gives the shared meta.
    public static func ensemble(_ members: [ModelFile]) -> ModelFile {
        precondition(!members.isEmpty)
        if members.count == 1 { return members[0] }
        var f = members[0]
        f.meta["ensemble"] = members.count
        f.meta["members"] = members.map { m -> [String: Any] in
            var d: [String: Any] = ["seed": m.meta["seed"] ?? 0]
            for k in ["selected", "history"] { if let v = m.meta[k] { d[k] = v } }
            return d
        }
        for (k, m) in members.enumerated() where k > 0 {
            for n in m.tensorNames { f.set(memberPrefix(k) + n, (try? m.tensor(n)) ?? [], shape: m.shape(n) ?? [0]) }
        }
        return f
    }

    /// Member `k` as a single-model file (its tensors under their plain names, its seed and history in meta).
    public func member(_ k: Int, file: String? = nil) throws -> ModelFile {
        let n = memberCount
        guard k >= 0 && k < n else { throw PVError.badInput(file: file ?? source, "model has \(n) member(s), not \(k + 1)") }
        if n == 1 { return self }
        var m = ModelFile(kind: kind, genes: genes, targets: targets, meta: meta)
        m.source = source
        m.meta.removeValue(forKey: "ensemble"); m.meta.removeValue(forKey: "members")
        if let ms = meta["members"] as? [[String: Any]], k < ms.count { for (key, v) in ms[k] { m.meta[key] = v } }
        let prefix = Self.memberPrefix(k)
        for name in tensorNames {
            let plain = !name.contains("/")
            if k == 0 ? plain : name.hasPrefix(prefix) {
                let short = k == 0 ? name : String(name.dropFirst(prefix.count))
                m.set(short, try tensor(name), shape: shape(name)!)
            }
        }
        return m
    }
}
