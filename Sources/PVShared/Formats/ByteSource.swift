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

/// A source of text lines for parsers that also take lines one by one (headers) and report line numbers.
public protocol LineSource: AnyObject {
    var name: String { get }
    /// 1-based number of the line last returned.
    var lineNumber: Int { get }
    /// The next line without its terminator, or nil at end of input; valid until the next call.
    func next() throws -> UnsafeBufferPointer<UInt8>?
}

extension LineReader: LineSource {}

/// Whole lines of a file in large chunks, read and gunzipped ahead on a second thread while the caller parses.
///
/// Inflating a gzip stream cannot be split, so the one way to use a second core on a gzipped text file is to inflate
/// on one thread while the other parses: a bounded queue of `depth` buffers of `chunkSize` bytes passes between
/// them (memory stays at depth x chunkSize whatever the file size). Every chunk ends with a newline (one is added
/// after a last line that lacks it), so parsers scan it without bounds checks on line ends. With one thread allowed
/// (`Parallel.threads == 1`), chunks are read on the caller's thread. Errors of the reading thread (I/O, corrupt
/// gzip) reach the caller after the chunks read before them, in file order. Call `close()` when done, also on
/// errors: it stops the reading thread.
public final class LineChunks: LineSource, @unchecked Sendable {
    public let source: ByteSource
    public var name: String { source.name }
    /// 1-based number of the line last returned by `next()`; callers that parse whole chunks advance it themselves.
    public var lineNumber = 0

    private let chunkSize: Int
    // Raw storage, not arrays: the two threads touch different elements of these at once.
    private let nBufs: Int
    private let bufs: UnsafeMutablePointer<UnsafeMutableRawBufferPointer>
    private let lens: UnsafeMutablePointer<Int>
    private var free: [Int]
    private var ready: [Int] = []            // filled buffers in file order
    private var producerDone = false
    private var producerError: Error?
    private var stopped = false
    private let cond = NSCondition()
    private let threaded: Bool
    private var started = false
    // Producer state: the partial last line of the previous chunk.
    private var carry: [UInt8] = []
    private var sourceEOF = false
    // Consumer state: the chunk being read line by line.
    private var held: Int? = nil
    private var pos = 0

    public init(_ source: ByteSource, chunkSize: Int = 4 << 20, depth: Int = 4, threaded: Bool = Parallel.threads > 1) {
        self.source = source
        self.chunkSize = max(chunkSize, 2)
        self.threaded = threaded
        let n = max(depth, 2)
        nBufs = n
        bufs = .allocate(capacity: n)
        for i in 0..<n { (bufs + i).initialize(to: .allocate(byteCount: self.chunkSize + 1, alignment: 64)) }
        lens = .allocate(capacity: n)
        lens.initialize(repeating: 0, count: n)
        free = Array(0..<n)
    }

    public convenience init(path: String) throws { self.init(try ByteSource(path: path)) }

    deinit {
        for i in 0..<nBufs { bufs[i].deallocate() }
        bufs.deallocate(); lens.deallocate()
    }

    /// Stops the reading thread; chunks not yet taken are dropped.
    public func close() {
        cond.lock(); stopped = true; cond.broadcast(); cond.unlock()
    }

    /// The next chunk of whole lines (the rest of the chunk `next()` was reading, if any), valid until the next call
    /// of `nextChunk` or `next`; nil at end of input.
    public func nextChunk() throws -> UnsafeBufferPointer<UInt8>? {
        if let h = held, pos < lens[h] {
            let p = bufs[h].baseAddress!.assumingMemoryBound(to: UInt8.self)
            let out = UnsafeBufferPointer(start: p + pos, count: lens[h] - pos)
            pos = lens[h]
            return out
        }
        guard let h = try take() else { return nil }
        pos = lens[h]
        return UnsafeBufferPointer(start: bufs[h].baseAddress!.assumingMemoryBound(to: UInt8.self), count: lens[h])
    }

    /// The next line without its terminator (`\n` or `\r\n`), or nil at end of input.
    public func next() throws -> UnsafeBufferPointer<UInt8>? {
        while true {
            if let h = held, pos < lens[h] {
                let base = bufs[h].baseAddress!.assumingMemoryBound(to: UInt8.self)
                let nl = memchr(base + pos, 0x0a, lens[h] - pos)!.assumingMemoryBound(to: UInt8.self)  // chunks end in \n
                var len = nl - (base + pos)
                if len > 0 && base[pos + len - 1] == 0x0d { len -= 1 }
                let line = UnsafeBufferPointer(start: base + pos, count: len)
                pos = nl - base + 1
                lineNumber += 1
                return line
            }
            guard let h = try take() else { return nil }
            pos = 0
            _ = h
        }
    }

    /// Gives back the held chunk and waits for the next one; nil at end of input.
    private func take() throws -> Int? {
        if !threaded {
            if let h = held { free.append(h); held = nil }
            if producerDone { return nil }
            try produceOne()
            guard !ready.isEmpty else { return nil }
            held = ready.removeFirst()
            return held
        }
        cond.lock()
        defer { cond.unlock() }
        if let h = held { free.append(h); held = nil; cond.broadcast() }
        if !started {
            started = true
            let t = Thread { [self] in self.produceLoop() }
            t.stackSize = 1 << 20
            t.start()
        }
        while ready.isEmpty && !producerDone { cond.wait() }
        if !ready.isEmpty { held = ready.removeFirst(); return held }
        if let e = producerError { producerError = nil; throw e }
        return nil
    }

    private func produceLoop() {
        while true {
            cond.lock()
            while free.isEmpty && !stopped { cond.wait() }
            if stopped { producerDone = true; cond.broadcast(); cond.unlock(); return }
            let b = free.removeLast()
            cond.unlock()
            do {
                let n = try fill(b)
                cond.lock()
                if n > 0 { lens[b] = n; ready.append(b) } else { free.append(b) }
                if sourceEOF { producerDone = true }
                cond.broadcast()
                let done = producerDone
                cond.unlock()
                if done { return }
            } catch {
                cond.lock()
                free.append(b)
                producerError = error; producerDone = true
                cond.broadcast(); cond.unlock()
                return
            }
        }
    }

    /// Unthreaded: fills one buffer into `ready`, or marks the end.
    private func produceOne() throws {
        while ready.isEmpty && !producerDone {
            let b = free.removeLast()
            let n: Int
            do { n = try fill(b) } catch { free.append(b); producerDone = true; throw error }
            if n > 0 { lens[b] = n; ready.append(b) } else { free.append(b) }
            if sourceEOF { producerDone = true }
        }
    }

    /// Fills buffer `b` with the carried partial line and new bytes up to its last newline; returns its length
    /// (0 at the end of input). Grows the buffer for a line longer than it.
    private func fill(_ b: Int) throws -> Int {
        var buf = bufs[b]
        if carry.count + 2 > buf.count - 1 {
            // The carried part of a long line does not fit (another buffer grew for it): grow this one too.
            buf.deallocate()
            buf = UnsafeMutableRawBufferPointer.allocate(byteCount: carry.count + chunkSize + 1, alignment: 64)
            bufs[b] = buf
        }
        var len = carry.count
        carry.withUnsafeBytes { c in if c.count > 0 { buf.baseAddress!.copyMemory(from: c.baseAddress!, byteCount: c.count) } }
        carry.removeAll(keepingCapacity: true)
        let base = { (buf: UnsafeMutableRawBufferPointer) in buf.baseAddress!.assumingMemoryBound(to: UInt8.self) }
        var scanned = 0                         // bytes known to hold no newline (a long line)
        while true {
            while len < buf.count - 1 && !sourceEOF {
                let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[len..<(buf.count - 1)]))
                if n == 0 { sourceEOF = true } else { len += n }
            }
            if sourceEOF {
                if len > 0 && base(buf)[len - 1] != 0x0a { base(buf)[len] = 0x0a; len += 1 }   // the spare byte
                return len
            }
            var i = len - 1
            let p = base(buf)
            while i >= scanned && p[i] != 0x0a { i -= 1 }
            if i >= scanned {
                carry.append(contentsOf: UnsafeBufferPointer(start: p + i + 1, count: len - i - 1))
                return i + 1
            }
            // No newline in a full buffer: double it and read on.
            scanned = len
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: (buf.count - 1) * 2 + 1, alignment: 64)
            bigger.baseAddress!.copyMemory(from: buf.baseAddress!, byteCount: len)
            buf.deallocate()
            buf = bigger
            bufs[b] = bigger
        }
    }
}
