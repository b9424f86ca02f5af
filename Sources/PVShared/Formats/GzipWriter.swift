import Foundation
import CZlib

/// Streams gzip-compressed bytes into an `OutputFile` (deflate with a gzip wrapper, as `gzip -N` writes it).
public final class GzipWriter {
    public let out: OutputFile
    private var zs = z_stream()
    private var obuf = [UInt8](repeating: 0, count: 1 << 18)
    private var pending = [UInt8]()
    private var finished = false

    /// `level` 1 (fast) to 9 (small); 6 is gzip's default.
    public init(_ out: OutputFile, level: Int32 = 6) throws {
        self.out = out
        pending.reserveCapacity(1 << 16)
        let rc = deflateInit2_(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                               Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw PVError.io(file: out.path, "zlib deflateInit failed (\(rc))") }
    }

    deinit { if !finished { deflateEnd(&zs) } }

    public func write(_ s: String) throws {
        pending.append(contentsOf: s.utf8)
        if pending.count >= 1 << 16 { try flushPending() }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try flushPending()
        try deflateBytes(bytes, flush: Z_NO_FLUSH)
    }

    private func flushPending() throws {
        guard !pending.isEmpty else { return }
        try pending.withUnsafeBytes { try deflateBytes($0, flush: Z_NO_FLUSH) }
        pending.removeAll(keepingCapacity: true)
    }

    private func deflateBytes(_ bytes: UnsafeRawBufferPointer, flush: Int32) throws {
        var inPtr = UnsafeMutablePointer<Bytef>(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        var inLeft = bytes.count
        while true {
            let (rc, produced): (Int32, Int) = obuf.withUnsafeMutableBytes { ob in
                zs.next_in = inPtr
                zs.avail_in = uInt(inLeft)
                zs.next_out = ob.baseAddress!.assumingMemoryBound(to: Bytef.self)
                zs.avail_out = uInt(ob.count)
                let rc = deflate(&zs, flush)
                return (rc, ob.count - Int(zs.avail_out))
            }
            inPtr = zs.next_in
            inLeft = Int(zs.avail_in)
            if produced > 0 { try obuf.withUnsafeBytes { try out.write(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
            if rc == Z_STREAM_END { return }
            if rc != Z_OK && rc != Z_BUF_ERROR { throw PVError.io(file: out.path, "zlib deflate failed (\(rc))") }
            if flush == Z_NO_FLUSH && inLeft == 0 && produced < obuf.count { return }
        }
    }

    /// Ends the gzip stream (the caller then commits the OutputFile).
    public func finish() throws {
        guard !finished else { return }
        try flushPending()
        try deflateBytes(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH)
        deflateEnd(&zs)
        finished = true
    }
}

/// CRC-32 (zlib's), as zip archives need it.
public func crc32Of(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
    guard bytes.count > 0 else { return seed }
    var crc = UInt(seed)
    var p = bytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
    var left = bytes.count
    while left > 0 {
        let n = min(left, Int(UInt32.max >> 1))
        crc = crc32(crc, p, uInt(n))
        p += n; left -= n
    }
    return UInt32(truncatingIfNeeded: crc)
}
