import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A folder output written atomically (a zarr store is a folder of files): everything goes into a temporary folder
/// beside the target, which `commit()` renames into place. Until then the temporary folder is removed on failure or
/// interruption, so a failed run leaves nothing. An existing target is replaced only when `replaceable` recognises it
/// as an earlier output of the same kind, never an unrelated folder or a file.
public final class OutputFolder {
    public let path: String
    /// Where the contents are written until `commit()`.
    public let tmpPath: String
    private var finished = false

    /// `kind` names the output in messages ("zarr store"); `replaceable` decides whether an existing folder at
    /// `path` may be replaced.
    public init(_ path: String, kind: String, replaceable: (String) -> Bool) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let parent = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDir), isDir.boolValue else {
            throw PVError.io(file: path, "folder \(parent) does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !(isDir.boolValue && replaceable(path)) {
            throw PVError.io(file: path, "exists and is not a \(kind); not replaced (remove it or choose another name)")
        }
        tmpPath = parent + "/." + url.lastPathComponent + ".\(getpid()).tmp"
        // A folder of this name can only be left by a killed run whose process id has come round again.
        try? FileManager.default.removeItem(atPath: tmpPath)
        guard mkdir(tmpPath, 0o777) == 0 else {
            throw PVError.io(file: path, "cannot create \(tmpPath): \(String(cString: strerror(errno)))")
        }
        PendingOutputs.add(tmpPath)
    }

    deinit { if !finished { abandon() } }

    /// Renames the finished folder into place. An earlier output at `path` is moved aside first and deleted after
    /// the rename (two renames: a reader in between sees no store rather than a mixed one); it is put back when the
    /// rename fails.
    public func commit() throws {
        guard !finished else { return }
        var aside: String?
        if access(path, F_OK) == 0 {
            let a = tmpPath + ".old"
            try? FileManager.default.removeItem(atPath: a)
            guard rename(path, a) == 0 else {
                let e = errno
                abandon(); throw PVError.io(file: path, "cannot move the earlier output aside: \(String(cString: strerror(e)))")
            }
            aside = a
        }
        guard rename(tmpPath, path) == 0 else {
            let e = errno
            if let aside { rename(aside, path) }
            abandon(); throw PVError.io(file: path, "cannot rename into place: \(String(cString: strerror(e)))")
        }
        PendingOutputs.remove(tmpPath)
        finished = true
        if let aside { try? FileManager.default.removeItem(atPath: aside) }
        TempNames.removeStale(of: path)
    }

    /// Deletes the temporary folder; the target is untouched.
    public func abandon() {
        guard !finished else { return }
        finished = true
        try? FileManager.default.removeItem(atPath: tmpPath)
        PendingOutputs.remove(tmpPath)
    }

    /// Writes `bytes` to the file `name` (a path relative to the folder, parents created), flushed to disk.
    public func write(_ name: String, _ bytes: UnsafeRawBufferPointer) throws {
        let p = tmpPath + "/" + name
        let dir = (p as NSString).deletingLastPathComponent
        if dir != tmpPath { try ensureDirectory(dir) }
        let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        guard fd >= 0 else { throw PVError.io(file: path + "/" + name, "cannot create: \(String(cString: strerror(errno)))") }
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno; close(fd)
                throw PVError.io(file: path + "/" + name, "write failed: \(String(cString: strerror(e)))")
            }
            off += n
        }
        let ok = fsync(fd) == 0
        let e = errno
        guard close(fd) == 0 && ok else { throw PVError.io(file: path + "/" + name, "write failed: \(String(cString: strerror(e)))") }
    }

    public func write(_ name: String, _ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write(name, $0) } }
}
