import Foundation
import CZlib

/// Compresses `bytes` into one complete gzip member in memory. Concatenated members form a valid gzip file
/// (RFC 1952), which lets workers compress blocks of a large file in parallel; the header has mtime 0, so the
/// bytes depend only on the input.
public func gzipMember(_ bytes: UnsafeRawBufferPointer, level: Int32 = 6) throws -> [UInt8] {
    var zs = z_stream()
    guard deflateInit2_(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                        Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw PVError.io(file: "gzip", "zlib deflateInit failed") }
    defer { deflateEnd(&zs) }
    let bound = Int(deflateBound(&zs, uLong(bytes.count))) + 64
    var out = [UInt8](repeating: 0, count: bound)
    let rc: Int32 = out.withUnsafeMutableBytes { ob in
        zs.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        zs.avail_in = uInt(bytes.count)
        zs.next_out = ob.baseAddress!.assumingMemoryBound(to: Bytef.self)
        zs.avail_out = uInt(ob.count)
        return deflate(&zs, Z_FINISH)
    }
    guard rc == Z_STREAM_END else { throw PVError.io(file: "gzip", "zlib deflate failed (\(rc))") }
    out.removeLast(Int(zs.avail_out))
    return out
}

/// A growable byte buffer with fast decimal formatting, for writing large text tables without Strings.
struct TextBuffer {
    var bytes: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var count = 0

    init(capacity: Int) { self.capacity = max(capacity, 64); bytes = .allocate(capacity: self.capacity) }
    func free() { bytes.deallocate() }

    mutating func reserve(_ extra: Int) {
        if count + extra <= capacity { return }
        let n = max(capacity * 2, count + extra)
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
        b.update(from: bytes, count: count)
        bytes.deallocate(); bytes = b; capacity = n
    }

    /// Appends a non-negative integer in decimal (caller reserved space: 20 bytes).
    @inline(__always) mutating func append(_ v: Int) {
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var x = v, n = 0
        withUnsafeMutableBytes(of: &tmp) { t in
            repeat { t[n] = UInt8(48 + x % 10); x /= 10; n += 1 } while x > 0
            for i in 0..<n { bytes[count + i] = t[n - 1 - i] }
        }
        count += n
    }

    @inline(__always) mutating func append(byte: UInt8) { bytes[count] = byte; count += 1 }

    var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: bytes, count: count) }
}
