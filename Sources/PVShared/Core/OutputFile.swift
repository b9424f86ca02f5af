import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Temporary files and folders not yet renamed into place; removed when a tool fails or is interrupted.
/// The signal handler must not take a lock (the interrupted thread may hold it), so every change publishes an
/// immutable NUL-terminated C array of the paths, which the handler reads without locking.
public enum PendingOutputs {
    nonisolated(unsafe) static var paths = Set<String>()
    static let lock = NSLock()
    /// The published snapshot: strdup'd paths, then nil. Old snapshots are not freed (a handler may be reading
    /// one); a run has a handful of outputs.
    nonisolated(unsafe) static var snapshot: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

    static func add(_ p: String) { lock.lock(); paths.insert(p); publish(); lock.unlock() }
    static func remove(_ p: String) { lock.lock(); paths.remove(p); publish(); lock.unlock() }

    private static func publish() {
        let list = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: paths.count + 1)
        for (i, p) in paths.enumerated() { list[i] = strdup(p) }
        list[paths.count] = nil
        snapshot = list
    }

    /// Deletes every pending temporary file and folder (an `OutputFolder` being filled).
    public static func removeAll() {
        lock.lock(); let ps = paths; paths.removeAll(); publish(); lock.unlock()
        for p in ps where unlink(p) != 0 { try? FileManager.default.removeItem(atPath: p) }
    }

    /// From a signal handler: unlinks the published temporary files and empties the published folders, taking
    /// no lock and allocating nothing for files (a folder's walk does allocate).
    static func removeAllFromSignal() {
        guard let list = snapshot else { return }
        var i = 0
        while let p = list[i] {
            if unlink(p) != 0 { try? FileManager.default.removeItem(atPath: String(cString: p)) }
            i += 1
        }
    }
}

func installSignalCleanup() {
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        signal(sig) { s in
            PendingOutputs.removeAllFromSignal()
            _exit(128 + s)
        }
    }
}

/// A binary or text output written atomically: bytes go to a temporary file beside the target, which is renamed
/// into place by `commit()`. `-` writes to stdout. Until committed, the temp file is removed on failure.
public final class OutputFile {
    public let path: String
    let tmpPath: String?
    private var fp: UnsafeMutablePointer<FILE>?
    private var committed = false
    /// A device or pipe opened in place (closed on commit).
    private var ownsStream = false

    public init(_ path: String) throws {
        self.path = path
        if path == "-" {
            tmpPath = nil
            fp = stdout
            return
        }
        // /dev/null, /dev/stdout, a named pipe: written in place. A temp file and rename would replace the device
        // node itself (or fail in /dev), and there is nothing half-written to protect.
        // /dev/stdout and /dev/fd/N are links to whatever the descriptor is, possibly a regular file.
        let descriptor = path == "/dev/stdout" || path == "/dev/stderr" || path.hasPrefix("/dev/fd/") || path.hasPrefix("/proc/self/fd/")
        var st = stat()
        let kind = stat(path, &st) == 0 ? st.st_mode & S_IFMT : S_IFREG
        if descriptor || (kind != S_IFREG && kind != S_IFDIR) {
            guard let f = fopen(path, "wb") else {
                throw PVError.io(file: path, "cannot open for writing: \(String(cString: strerror(errno)))")
            }
            tmpPath = nil; fp = f; ownsStream = true
            return
        }
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) || !isDir.boolValue {
            throw PVError.io(file: path, "folder \(dir) does not exist")
        }
        // Unique per output within the process too: two outputs of one run never share a temp file.
        let tmp = dir + "/." + url.lastPathComponent + ".\(getpid()).\(TempNames.next()).tmp"
        guard let f = fopen(tmp, "wb") else {
            throw PVError.io(file: path, "cannot create: \(String(cString: strerror(errno)))")
        }
        setvbuf(f, nil, _IOFBF, 1 << 20)
        PendingOutputs.add(tmp)
        tmpPath = tmp
        fp = f
    }

    deinit { if !committed { abandon() } }

    public func write(_ buf: UnsafeRawBufferPointer) throws {
        guard buf.count > 0 else { return }
        // After commit or abandon the bytes would vanish silently: make that a visible error instead.
        guard let fp else { throw PVError.io(file: displayOut, "write after the file was closed") }
        if fwrite(buf.baseAddress, 1, buf.count, fp) != buf.count {
            throw PVError.io(file: displayOut, "write failed: \(String(cString: strerror(errno)))")
        }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    public func write(_ s: String) throws {
        var s = s
        try s.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Rewrites `bytes` at `offset` of a file being written to a temp file (a header whose content is known only
    /// at the end), then continues at the end.
    public func overwrite(at offset: Int, _ bytes: [UInt8]) throws {
        guard let fp, tmpPath != nil else { throw PVError.io(file: displayOut, "cannot rewrite a stream") }
        guard fseeko(fp, off_t(offset), SEEK_SET) == 0, fwrite(bytes, 1, bytes.count, fp) == bytes.count, fseeko(fp, 0, SEEK_END) == 0 else {
            throw PVError.io(file: displayOut, "write failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Tests only: `PV_TEST_NO_REGION=1` makes `appendRegion` decline, as for a stream, so that the in-order write
    /// path its callers fall back to is tested on ordinary files.
    static let testNoRegion = ProcessInfo.processInfo.environment["PV_TEST_NO_REGION"] == "1"

    /// Appends a region of `count` bytes that any thread may write at any offset within it (`Region.write`,
    /// pwrite(2)), for a large output filled by several threads at once, each from a small buffer of its own that
    /// stays in cache. The bytes are allocated on disk first (posix_fallocate), so a full disk is an error here
    /// rather than part-way through. Every write starts its own write-back to disk, so the fsync of `commit()` finds
    /// little left. Returns nil, writing nothing, when the output is a stream (stdout, a pipe or device) or the file
    /// system lacks these calls: the caller writes the bytes in order instead. `endRegion()` continues after the
    /// region (it must be wholly written by then: what is not reads as zeros).
    ///
    /// Measured on pv-normalize's dense matrix (800 MB, bench/normalize): the same bytes stored through a shared
    /// writable mapping of the file took ~1.55 s against ~0.9 s (medians), as every first store to a page made the
    /// kernel read the page in (zero-filled) before it was overwritten.
    public func appendRegion(count: Int) throws -> Region? {
        guard let fp, tmpPath != nil, count > 0, !Self.testNoRegion else { return nil }
        let fd = fileno(fp)
        guard fflush(fp) == 0 else { throw PVError.io(file: path, "write failed: \(String(cString: strerror(errno)))") }
        let start = ftello(fp)
        guard start >= 0 else { return nil }
        switch posix_fallocate(fd, start, off_t(count)) {
        case 0: break
        case EOPNOTSUPP, EINVAL, ENODEV, ESPIPE: return nil
        case let e: throw PVError.io(file: path, "cannot allocate \(count) bytes: \(String(cString: strerror(e)))")
        }
        return Region(fd: fd, start: Int(start), count: count, path: path)
    }

    /// Continues writing after a region from `appendRegion`.
    public func endRegion() throws {
        guard let fp, fseeko(fp, 0, SEEK_END) == 0 else {
            throw PVError.io(file: path, "write failed: \(String(cString: strerror(errno)))")
        }
    }

    /// `count` bytes of an output file, written by offset from any thread (see `OutputFile.appendRegion`).
    public struct Region: Sendable {
        let fd: Int32, start: Int
        public let count: Int
        let path: String

        /// Writes `bytes` at `offset` bytes into the region (pwrite(2), retried until all are written) and starts
        /// their write-back to disk.
        public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
            precondition(offset >= 0 && offset + bytes.count <= count, "write outside the region")
            guard bytes.count > 0 else { return }  // (a zero length would start write-back to the end of the file)
            var done = 0
            while done < bytes.count {
                let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(start + offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw PVError.io(file: path, "write failed: \(String(cString: strerror(errno)))")
                }
                done += n
            }
            _ = pv_start_writeback(fd, Int64(start + offset), Int64(bytes.count))
        }
    }

    /// Refuses, before any work, an output whose header is rewritten once its data are known (`overwrite(at:)`, e.g.
    /// a run id hashing the data) when `path` names a pipe, device or other non-regular file: there it could only
    /// fail at the end ("cannot rewrite a stream").
    public static func requireRewritable(_ path: String) throws {
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & S_IFMT != S_IFREG {
            let name = URL(fileURLWithPath: path).lastPathComponent
            throw PVError.io(file: path, "is not a regular file: \(name) cannot go to a pipe or device (its header, written last, holds a hash of the data)")
        }
    }

    var displayOut: String { path == "-" ? "<stdout>" : path }

    /// Flushes, closes and renames into place; then removes temp files that killed runs left for this output.
    public func commit() throws {
        try prepare()
        try publish()
    }

    /// First half of `commit()`: flushes, fsyncs and closes the temp file (the target is untouched). On failure
    /// the temp file is removed.
    func prepare() throws {
        guard let f = fp else { return }
        if tmpPath == nil {
            let ok = fflush(f) == 0
            if ownsStream { fclose(f) }
            committed = true; fp = nil
            if !ok { throw PVError.io(file: displayOut, "write failed") }
            return
        }
        // errno is read before cleanup calls (fclose, unlink) can overwrite it.
        var ok = fflush(f) == 0 && fsync(fileno(f)) == 0
        var err = ok ? 0 : errno
        if fclose(f) != 0 && ok { ok = false; err = errno }
        fp = nil
        guard ok else { abandon(); throw PVError.io(file: path, "write failed: \(String(cString: strerror(err)))") }
    }

    /// Second half of `commit()`: renames the prepared temp file into place.
    func publish() throws {
        guard let tmp = tmpPath, !committed else { return }
        guard rename(tmp, path) == 0 else {
            let e = errno
            abandon(); throw PVError.io(file: path, "cannot rename into place: \(String(cString: strerror(e)))")
        }
        PendingOutputs.remove(tmp)
        committed = true
        TempNames.removeStale(of: path)
    }

    /// Closes and deletes the temporary file; the target is untouched.
    public func abandon() {
        if committed && fp == nil { return }
        if let f = fp, tmpPath != nil || ownsStream { fclose(f) }
        fp = nil
        if let t = tmpPath { unlink(t); PendingOutputs.remove(t) }
        committed = true
    }
}

/// Writes a whole file atomically.
public func writeFileAtomically(_ path: String, _ body: (OutputFile) throws -> Void) throws {
    let out = try OutputFile(path)
    do { try body(out); try out.commit() } catch { out.abandon(); throw error }
}

/// Creates an output folder (and parents) if needed.
public func ensureDirectory(_ path: String) throws {
    do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
        throw PVError.io(file: path, "cannot create folder: \(error.localizedDescription)")
    }
}

/// Names of temp files: `.NAME.PID.N.tmp` beside the target (N counts outputs within the process).
enum TempNames {
    nonisolated(unsafe) static var counter = 0
    static let lock = NSLock()
    static func next() -> Int { lock.lock(); defer { lock.unlock() }; counter += 1; return counter }

    /// Deletes `.NAME.PID.tmp`, `.NAME.PID.N.tmp`, `.NAME.PID.WORD.tmp` (and `.tmp.old`) beside `path` whose process
    /// is gone: what a killed run (SIGKILL cannot be caught) left of this same output. Live processes' stay.
    static func removeStale(of path: String) {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let prefix = "." + url.lastPathComponent + "."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for n in names where n.hasPrefix(prefix) {
            var rest = Substring(n.dropFirst(prefix.count))
            if rest.hasSuffix(".tmp.old") { rest = rest.dropLast(8) } else if rest.hasSuffix(".tmp") { rest = rest.dropLast(4) } else { continue }
            let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) }),
                  parts[0].allSatisfy(\.isNumber), let pid = Int32(parts[0]) else { continue }
            if pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH { continue }
            let p = dir + "/" + n
            if unlink(p) != 0 { try? FileManager.default.removeItem(atPath: p) }
        }
    }
}
