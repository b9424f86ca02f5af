import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Several outputs of one run committed all or nothing (expr.npy + genes.tsv + obs.tsv, pred.npy + pred.tsv, ...).
/// `commit()` first flushes, fsyncs and closes every temp file, and only when all succeeded renames them into
/// place; any failure before the renames abandons every member, so the earlier outputs stay as they were. The
/// renames themselves cannot be made atomic as a group: a run killed between two of them leaves new files beside
/// old ones, which is why every output carries the run id (`RunStamp`) that readers compare.
public final class OutputSet {
    private var members: [(file: OutputFile, label: String)] = []
    private var finished = false

    /// Starts the run id (`RunStamp`) that the members' provenance carries (`pending` until the tool derives it
    /// from what it writes), unless the tool derived one already.
    public init() { _ = RunStamp.id }

    /// Opens `path` as a member. `label` names it in messages (usually its option, `--json`). Two members with one
    /// path (the same name, or two names of one existing file) are a usage error: the second would replace the first.
    public func file(_ path: String, label: String? = nil) throws -> OutputFile {
        let label = label ?? path
        for m in members { try OutputSet.requireDistinct([(m.label, m.file.path), (label, path)]) }
        let f = try OutputFile(path)
        members.append((f, label))
        return f
    }

    /// Throws a usage error when two of the (label, path) outputs name one file; nil paths (outputs not asked
    /// for) are skipped. Tools call it while reading options, before any work.
    public static func requireDistinct(_ outputs: [(label: String, path: String?)]) throws {
        let given = outputs.compactMap { o in o.path.map { (o.label, $0) } }
        for i in given.indices {
            for j in given.indices where j > i && samePath(given[i].1, given[j].1) {
                let p = given[j].1
                throw PVError.usage("\(given[i].0) and \(given[j].0) name the same file \(p == "-" ? "(stdout)" : p); give each output its own path")
            }
        }
    }

    /// Whether `a` and `b` name one file: equal after resolving `.`/`..` and symbolic links of the folder, or one
    /// existing file (same device and inode).
    static func samePath(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        if a == "-" || b == "-" { return false }
        func canon(_ p: String) -> String {
            let u = URL(fileURLWithPath: p).standardizedFileURL
            return u.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(u.lastPathComponent).path
        }
        if canon(a) == canon(b) { return true }
        var sa = stat(), sb = stat()
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// Makes every member durable, then renames all into place (in the order they were opened).
    public func commit() throws {
        guard !finished else { return }
        finished = true
        do {
            for m in members { try m.file.prepare() }
        } catch { abandonAll(); throw error }
        for (i, m) in members.enumerated() {
            do { try m.file.publish() } catch {
                // The new files already renamed would sit beside old ones: remove them, so a reader finds a file
                // missing instead of a mixed set.
                for r in members[..<i] where r.file.path != "-" { unlink(r.file.path) }
                abandonAll(); throw error
            }
            OutputSet.testHook(renamed: i + 1)
        }
    }

    /// Deletes every member's temp file; existing targets are untouched.
    public func abandon() { finished = true; abandonAll() }

    private func abandonAll() { for m in members { m.file.abandon() } }

    deinit { if !finished { abandonAll() } }

    /// Tests only: `PV_TEST_KILL_AFTER_RENAMES=N` kills the process with SIGKILL right after the N-th rename of a
    /// set, the moment an interrupted run leaves a mixed set.
    static let killAfter: Int? = ProcessInfo.processInfo.environment["PV_TEST_KILL_AFTER_RENAMES"].flatMap { Int($0) }
    static func testHook(renamed n: Int) {
        if let k = killAfter, k == n { kill(getpid(), SIGKILL) }
    }
}
