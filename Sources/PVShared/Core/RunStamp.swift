import Foundation

/// The identity of one tool run, written into the provenance of every output it writes (`# run: ID` in text and
/// `.npy` headers, `% run: ID` in Matrix Market, `"run"` in JSON). Files of one output set that carry different ids
/// were written by different runs: a run killed between renaming its outputs into place left a mixed set, and the
/// readers that take such files together refuse it (`requireSameRun`).
public enum RunStamp {
    /// The id of this run once an output set has started (`OutputSet` starts one): only outputs of a set carry it,
    /// so single outputs stay byte-identical between runs.
    nonisolated(unsafe) public private(set) static var current: String?

    /// What outputs carry while the tool is still writing them, until `derive` sets the id: a hash of what the tool
    /// writes, known only at the end. `.npy` headers are then rewritten in place (same length) and text is `stamped`.
    /// It is not hex, so a reader that meets it never takes it for an id.
    public static let pending = "<pending-run-id>"

    /// The id, or `pending` until the tool derives it. Every tool that writes an output set derives the id from
    /// what it writes (or from its parameters, when the outputs are a function of them), never at random: two
    /// identical runs write identical files (reproducibility checks compare them byte for byte), while two runs
    /// that differ in any output byte get different ids, so a mix of their files is still refused.
    public static var id: String {
        if let c = current { return c }
        current = pending
        return pending
    }

    /// Starts a run whose id is not known yet (`pending`), forgetting an id an earlier run in this process derived.
    public static func begin() { current = pending }

    /// `text` with the `pending` placeholder replaced by the derived id.
    public static func stamped(_ text: String) -> String {
        guard let c = current, c != pending else { return text }
        return text.replacingOccurrences(of: pending, with: c)
    }

    /// Sets the id to `fingerprint`'s hash of what the tool writes (or of its parameters, when the outputs are a
    /// function of them): identical runs then write identical files (byte-identical outputs stay so, whatever the
    /// thread count), and a mix of two such runs' files is harmless since they agree.
    public static func derive(from fingerprint: Fingerprint) { current = fingerprint.hex }

    /// `derive` from strings.
    public static func derive(from parts: [String]) {
        var f = Fingerprint()
        for p in parts { f.add(p) }
        derive(from: f)
    }

    /// A 64-bit FNV-1a-style hash, fed incrementally (over 8-byte words: fast on a whole expression matrix).
    public struct Fingerprint {
        var h: UInt64 = 0xcbf29ce484222325
        public init() {}
        public mutating func add(_ p: UnsafeRawBufferPointer) {
            var i = 0
            while i + 8 <= p.count {
                h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x100000001b3
                h ^= h >> 29
                i += 8
            }
            while i < p.count { h = (h ^ UInt64(p[i])) &* 0x100000001b3; i += 1 }
            h = (h ^ UInt64(p.count)) &* 0x100000001b3
        }
        public mutating func add(_ s: String) { var s = s; s.withUTF8 { add(UnsafeRawBufferPointer($0)) } }
        public mutating func add<T>(_ a: [T]) { a.withUnsafeBytes { add($0) } }

        /// Adds the content of a text output without its provenance: `#` lines (tool, command line, run id) and a
        /// pretty-printed JSON's `"command"` and `"run"` keys. The command line names output paths and thread
        /// counts, which do not change what is written; two runs that write the same data get the same id.
        public mutating func addContent(_ text: String) {
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("#") { continue }
                let t = line.drop(while: { $0 == " " })
                if t.hasPrefix("\"command\" :") || t.hasPrefix("\"run\" :") { continue }
                add(String(line))
            }
        }
        public var hex: String { String(format: "%016llx", h) }

        /// The fingerprint of `p` alone, as a number: pieces hashed on several threads (rows of a matrix) and then
        /// added in order with `add(_:)` give one fingerprint that does not depend on the thread count.
        public static func of(_ p: UnsafeRawBufferPointer) -> UInt64 { var f = Fingerprint(); f.add(p); return f.h }
    }

    /// The run id recorded near the start of `path` (plain or gzip), or nil when it has none (written by another
    /// program or an older pv) or cannot be read (the reader that follows reports that).
    public static func read(_ path: String) -> String? {
        guard path != "-", let src = try? ByteSource(path: path) else { return nil }
        var buf = [UInt8](repeating: 0, count: 8192)
        var n = 0
        while n < buf.count {
            let k = (try? buf.withUnsafeMutableBytes { try src.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[n...])) }) ?? 0
            if k <= 0 { break }
            n += k
        }
        // A JSON document (pv-score's scores.json) carries it as the key "run", wherever its keys sort.
        if buf[0..<n].first(where: { $0 != 32 && $0 != 10 && $0 != 9 && $0 != 13 }) == UInt8(ascii: "{") {
            var all = Array(buf[0..<n])
            if n == buf.count { guard let rest = try? src.readAll() else { return nil }; all += rest }
            let doc = try? JSONSerialization.jsonObject(with: Data(all)) as? [String: Any]
            return doc?["run"] as? String
        }
        return find(in: buf[0..<n])
    }

    /// The id after the first `# run: ` or `% run: ` in `bytes`.
    static func find(in bytes: ArraySlice<UInt8>) -> String? {
        let keys = ["# run: ", "% run: "].map { Array($0.utf8) }
        let b = Array(bytes)
        for key in keys where b.count >= key.count + 16 {
            var i = 0
            while i + key.count + 16 <= b.count {
                if b[i] == key[0] && Array(b[i..<(i + key.count)]) == key {
                    let v = b[(i + key.count)..<(i + key.count + 16)]
                    if v.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) { return String(decoding: v, as: UTF8.self) }
                }
                i += 1
            }
        }
        return nil
    }

    /// Throws (exit 65) when two of `paths` that exist carry different run ids: the files are one output set
    /// (expr.npy with genes.tsv and obs.tsv, pred.npy with pred.tsv, ...) and a mix is read with wrong names or rows.
    public static func requireSameRun(_ paths: [String]) throws {
        var first: (path: String, id: String)?
        for p in paths where p != "-" {
            guard let id = read(p) else { continue }
            if let f = first {
                if f.id != id {
                    throw PVError.badInput(file: p, "written by another run (\(id)) than \(f.path) (\(f.id)): a mixed set of outputs, "
                                           + "left by a run that was interrupted while replacing them; rerun the step that writes them")
                }
            } else { first = (p, id) }
        }
    }

    /// `path`'s sibling `name` (same folder).
    public static func sibling(_ path: String, _ name: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(name).path
    }
}
