import Foundation
import CZlib
#if canImport(Glibc)
import Glibc
#endif

/// A stream of bytes from a file or stdin, transparently gunzipped when the first bytes are the gzip magic.
public final class ByteSource {
    public let name: String
    private let fd: Int32
    private let ownsFD: Bool
    private var raw: [UInt8]           // raw (possibly compressed) read buffer
    private var rawStart = 0, rawEnd = 0
    private var eofRaw = false
    public private(set) var isGzip = false
    private var zs = z_stream()
    private var zActive = false
    /// Compressed or plain bytes consumed so far (for error offsets and progress).
    public private(set) var rawBytesRead = 0
    /// Size of the file on disk, when known (not for stdin or pipes).
    public let fileSize: Int?

    /// Opens `path` (`-` for stdin). Missing files raise `missingInput` (exit 66).
    public init(path: String) throws {
        name = displayName(path)
        if path == "-" { fd = 0; ownsFD = false; fileSize = nil } else {
            let f = open(path, O_RDONLY)
            if f < 0 {
                let msg = String(cString: strerror(errno))
                throw PVError.missingInput(file: path, "cannot open: \(msg)")
            }
            var st = stat()
            fstat(f, &st)
            if (st.st_mode & S_IFMT) == S_IFDIR { close(f); throw PVError.missingInput(file: path, "is a folder, expected a file") }
            fd = f; ownsFD = true
            fileSize = (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : nil
        }
        raw = [UInt8](repeating: 0, count: 1 << 20)
        // Peek for the gzip magic (1f 8b) without consuming.
        var gz = false
        try fillRaw()
        if rawEnd - rawStart < 2 && !eofRaw { try fillRaw() }
        if rawEnd - rawStart >= 2 && raw[rawStart] == 0x1f && raw[rawStart + 1] == 0x8b { gz = true }
        isGzip = gz
        if gz { try startInflate() }
    }

    deinit {
        if zActive { inflateEnd(&zs) }
        if ownsFD { close(fd) }
    }

    private func fillRaw() throws {
        if rawStart > 0 && rawStart == rawEnd { rawStart = 0; rawEnd = 0 }
        if rawStart > 0 && rawEnd == raw.count {
            let n = rawEnd - rawStart
            raw.withUnsafeMutableBytes { p in _ = memmove(p.baseAddress!, p.baseAddress! + rawStart, n) }
            rawStart = 0; rawEnd = n
        }
        guard rawEnd < raw.count else { return }
        let n = raw.withUnsafeMutableBytes { p in Glibc.read(fd, p.baseAddress! + rawEnd, p.count - rawEnd) }
        if n < 0 { throw PVError.io(file: name, "read failed: \(String(cString: strerror(errno)))") }
        if n == 0 { eofRaw = true }
        rawEnd += n
        rawBytesRead += n
    }

    private func startInflate() throws {
        zs = z_stream()
        let rc = inflateInit2_(&zs, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw PVError.io(file: name, "zlib init failed (\(rc))") }
        zActive = true
    }

    /// Reads up to `buf.count` decompressed bytes; returns 0 only at the end of the stream.
    public func read(into buf: UnsafeMutableRawBufferPointer) throws -> Int {
        // Nothing fits: without this the gzip loop below would spin forever waiting for output room.
        guard buf.count > 0 else { return 0 }
        if !isGzip {
            if rawStart < rawEnd {
                let n = min(buf.count, rawEnd - rawStart)
                raw.withUnsafeBytes { p in _ = memcpy(buf.baseAddress!, p.baseAddress! + rawStart, n) }
                rawStart += n
                return n
            }
            if eofRaw { return 0 }
            let n = Glibc.read(fd, buf.baseAddress!, buf.count)
            if n < 0 { throw PVError.io(file: name, "read failed: \(String(cString: strerror(errno)))") }
            rawBytesRead += n
            if n == 0 { eofRaw = true }
            return n
        }
        var produced = 0
        while produced == 0 {
            if rawStart == rawEnd {
                if eofRaw {
                    if zActive { throw PVError.badInput(file: name, offset: rawBytesRead, "truncated gzip stream (unexpected end of file)") }
                    return 0
                }
                try fillRaw()
                continue
            }
            if !zActive {
                // Concatenated gzip members (as bgzip and `cat a.gz b.gz` make): start the next one.
                if raw[rawStart] == 0x1f && rawEnd - rawStart >= 2 && raw[rawStart + 1] == 0x8b {
                    try startInflate()
                } else if rawEnd - rawStart < 2 && !eofRaw {
                    try fillRaw(); continue
                } else {
                    // Trailing garbage after a complete member: accept zero padding, reject anything else.
                    if raw[rawStart..<rawEnd].allSatisfy({ $0 == 0 }) { rawStart = rawEnd; continue }
                    throw PVError.badInput(file: name, offset: rawBytesRead - (rawEnd - rawStart), "corrupt gzip stream: unexpected bytes after the end of a gzip member")
                }
            }
            let availIn = rawEnd - rawStart
            let rc: Int32 = raw.withUnsafeMutableBytes { p in
                zs.next_in = p.baseAddress!.assumingMemoryBound(to: Bytef.self) + rawStart
                zs.avail_in = uInt(availIn)
                zs.next_out = buf.baseAddress!.assumingMemoryBound(to: Bytef.self) + produced
                zs.avail_out = uInt(buf.count - produced)
                return inflate(&zs, Z_NO_FLUSH)
            }
            let consumed = availIn - Int(zs.avail_in)
            rawStart += consumed
            produced = buf.count - Int(zs.avail_out)
            switch rc {
            case Z_OK: break
            case Z_STREAM_END:
                inflateEnd(&zs); zActive = false
            case Z_BUF_ERROR:
                if consumed == 0 && produced == 0 { try fillRaw() }
            default:
                let msg = zs.msg.map { String(cString: $0) } ?? "error \(rc)"
                throw PVError.badInput(file: name, offset: rawBytesRead - (rawEnd - rawStart), "corrupt gzip stream: \(msg)")
            }
        }
        return produced
    }

    /// Reads everything that remains (for small files such as TSV tables).
    public func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }
}

/// Streams a file line by line without building Strings: each line is a byte slice valid until the next call.
/// Accepts `\n` and `\r\n` line ends; the last line may lack its newline.
public final class LineReader {
    public let source: ByteSource
    private var buf: UnsafeMutableRawBufferPointer
    private var start = 0, end = 0
    private var eof = false
    /// 1-based number of the line last returned.
    public private(set) var lineNumber = 0

    public init(_ source: ByteSource, bufferSize: Int = 1 << 20) {
        self.source = source
        // At least one byte: an empty buffer could never grow (doubling 0) and next() would loop forever.
        buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bufferSize, 1), alignment: 16)
    }

    public convenience init(path: String) throws { self.init(try ByteSource(path: path)) }

    deinit { buf.deallocate() }

    public var name: String { source.name }

    /// The next line without its terminator, or nil at end of input.
    public func next() throws -> UnsafeBufferPointer<UInt8>? {
        while true {
            let base = buf.baseAddress!.assumingMemoryBound(to: UInt8.self)
            if start < end, let nl = memchr(base + start, 0x0a, end - start) {
                let p = nl.assumingMemoryBound(to: UInt8.self)
                var len = p - (base + start)
                if len > 0 && base[start + len - 1] == 0x0d { len -= 1 }
                let line = UnsafeBufferPointer(start: base + start, count: len)
                start = p - base + 1
                lineNumber += 1
                return line
            }
            if eof {
                if start < end {
                    var len = end - start
                    if base[start + len - 1] == 0x0d { len -= 1 }
                    let line = UnsafeBufferPointer(start: base + start, count: len)
                    start = end
                    lineNumber += 1
                    return line
                }
                return nil
            }
            // Compact and refill; grow for very long lines.
            if start > 0 {
                memmove(buf.baseAddress!, buf.baseAddress! + start, end - start)
                end -= start; start = 0
            }
            if end == buf.count {
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buf.count * 2, alignment: 16)
                bigger.copyMemory(from: UnsafeRawBufferPointer(buf))
                buf.deallocate(); buf = bigger
            }
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[end...]))
            if n == 0 { eof = true } else { end += n }
        }
    }

    /// The next line as a String (for small tables).
    public func nextString() throws -> String? {
        guard var l = try next() else { return nil }
        // A UTF-8 byte-order mark (Excel and some Windows tools write one) is not part of the first field.
        if lineNumber == 1 && l.count >= 3 && l[0] == 0xEF && l[1] == 0xBB && l[2] == 0xBF {
            l = UnsafeBufferPointer(rebasing: l[3...])
        }
        guard let s = String(validating: l, as: UTF8.self) else {
            throw PVError.badInput(file: name, line: lineNumber, "not valid UTF-8 text")
        }
        return s
    }
}
