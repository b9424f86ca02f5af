import Foundation
import CZlib

/// A `.npz` archive: a zip of `.npy` members (uncompressed, as `np.savez` writes) plus other members
/// such as `meta.json`. Reads stored and deflated members, so `np.savez_compressed` files load too.
public struct NPZ {
    /// Member name (as in the zip, e.g. `W.npy`) to raw bytes.
    public private(set) var members: [(name: String, bytes: [UInt8])] = []

    public init() {}

    /// Adds a float32 array as `name.npy`.
    public mutating func add(_ name: String, _ values: [Float], shape: [Int]) {
        let b = values.withUnsafeBufferPointer { npyBytes($0, dtype: .float32, shape: shape) }
        members.append((name + ".npy", b))
    }

    /// Adds a float64 array as `name.npy` (values that must survive exactly, such as a checkpoint's best loss).
    public mutating func add(_ name: String, doubles values: [Double], shape: [Int]) {
        let b = values.withUnsafeBufferPointer { npyBytes($0, dtype: .float64, shape: shape) }
        members.append((name + ".npy", b))
    }

    public mutating func add(_ name: String, ints values: [Int64], shape: [Int]) {
        let b = values.withUnsafeBufferPointer { npyBytes($0, dtype: .int64, shape: shape) }
        members.append((name + ".npy", b))
    }

    /// Adds a non-array member verbatim (e.g. `meta.json`).
    public mutating func addRaw(_ name: String, _ bytes: [UInt8]) { members.append((name, bytes)) }

    /// The bytes of a member, by its full zip name.
    public func raw(_ name: String) -> [UInt8]? { members.first { $0.name == name }?.bytes }

    /// Array member `name` (without `.npy`), parsed.
    public func array(_ name: String, file: String) throws -> NPYArray {
        guard let b = raw(name + ".npy") else { throw PVError.badInput(file: file, "missing member \(name).npy") }
        return try b.withUnsafeBytes { try NPYArray(bytes: $0, name: "\(file):\(name).npy") }
    }

    /// Writes the archive atomically.
    public func write(_ path: String) throws {
        try writeFileAtomically(path) { out in try out.write(self.zipBytes(path: path)) }
    }

    func zipBytes(path: String) throws -> [UInt8] {
        var body: [UInt8] = []
        var central: [UInt8] = []
        func u16(_ v: Int, _ a: inout [UInt8]) { a += [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
        func u32(_ v: Int, _ a: inout [UInt8]) { a += [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8((v >> 24) & 0xff)] }
        // Fixed DOS timestamp (1980-01-01) keeps files byte-identical across runs.
        let dosTime = 0, dosDate = (0 << 9) | (1 << 5) | 1
        for m in members {
            guard m.bytes.count < Int(UInt32.max), body.count < Int(UInt32.max) else {
                throw PVError.io(file: path, "archive member \(m.name) exceeds 4 GiB (zip64 not supported)")
            }
            let crc = Int(m.bytes.withUnsafeBytes { crc32Of($0) })
            let nameBytes = Array(m.name.utf8)
            // Bit 11: the name is UTF-8 (without it readers decode non-ASCII names as CP437).
            let flags = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x800
            let offset = body.count
            u32(0x04034b50, &body); u16(20, &body); u16(flags, &body); u16(0, &body)
            u16(dosTime, &body); u16(dosDate, &body); u32(crc, &body)
            u32(m.bytes.count, &body); u32(m.bytes.count, &body)
            u16(nameBytes.count, &body); u16(0, &body); body += nameBytes
            body += m.bytes
            u32(0x02014b50, &central); u16(20, &central); u16(20, &central); u16(flags, &central); u16(0, &central)
            u16(dosTime, &central); u16(dosDate, &central); u32(crc, &central)
            u32(m.bytes.count, &central); u32(m.bytes.count, &central)
            u16(nameBytes.count, &central); u16(0, &central); u16(0, &central); u16(0, &central); u16(0, &central)
            u32(0, &central); u32(offset, &central); central += nameBytes
        }
        // The end record holds 32-bit offsets and a 16-bit count: past them the archive would be silently corrupt.
        guard body.count < Int(UInt32.max), central.count < Int(UInt32.max), members.count < 0xFFFF else {
            throw PVError.io(file: path, "archive exceeds 4 GiB or 65535 members (zip64 not supported)")
        }
        var end: [UInt8] = []
        u32(0x06054b50, &end); u16(0, &end); u16(0, &end); u16(members.count, &end); u16(members.count, &end)
        u32(central.count, &end); u32(body.count, &end); u16(0, &end)
        return body + central + end
    }

    /// Reads an archive, validating the zip structure and each member's CRC.
    public init(path: String) throws {
        let name = displayName(path)
        let data = try ByteSource(path: path).readAll()
        if data.isEmpty { throw PVError.badInput(file: name, "empty file, expected a .npz archive") }
        try self.init(bytes: data, name: name)
    }

    init(bytes data: [UInt8], name: String) throws {
        func bad(_ m: String, _ off: Int? = nil) -> PVError { .badInput(file: name, offset: off, "not a valid .npz (zip) archive: \(m)") }
        func r16(_ o: Int) -> Int { Int(data[o]) | Int(data[o + 1]) << 8 }
        func r32(_ o: Int) -> Int { r16(o) | r16(o + 2) << 16 }
        if data.count >= 6 && data[0] == 0x93 && Array(data[1..<6]) == Array("NUMPY".utf8) {
            throw PVError.badInput(file: name, "is a single .npy array, expected a .npz archive")
        }
        guard data.count >= 22 else { throw bad("too short") }
        var eocd = -1
        var i = data.count - 22
        while i >= max(0, data.count - 22 - 65_535) {
            if data[i] == 0x50 && data[i + 1] == 0x4b && data[i + 2] == 5 && data[i + 3] == 6 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record (truncated?)") }
        let n = r16(eocd + 10), cdSize = r32(eocd + 12), cdOff = r32(eocd + 16)
        if n == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOff == 0xFFFF_FFFF {
            throw bad("zip64 archive (over 4 GiB or 65535 members) is not supported", eocd)
        }
        guard cdOff + cdSize <= eocd else { throw bad("central directory out of range", eocd) }
        var p = cdOff
        for _ in 0..<n {
            guard p + 46 <= data.count, r32(p) == 0x02014b50 else { throw bad("bad central directory entry", p) }
            let method = r16(p + 10), crc = UInt32(r32(p + 16)), csize = r32(p + 20), usize = r32(p + 24)
            let nlen = r16(p + 28), xlen = r16(p + 30), clen = r16(p + 32), loff = r32(p + 42)
            guard p + 46 + nlen <= data.count else { throw bad("truncated central directory", p) }
            // Member names are echoed quoted (error lines escape and cut them); offsets beyond the file come from a
            // corrupt entry, so the entry's own offset is reported then.
            let mname = String(decoding: data[(p + 46)..<(p + 46 + nlen)], as: UTF8.self)
            let entry = p
            p += 46 + nlen + xlen + clen
            guard loff + 30 <= data.count else {
                throw bad("member '\(mname)': local header offset \(loff) is beyond the end of the file (\(data.count) bytes)", entry)
            }
            guard r32(loff) == 0x04034b50 else { throw bad("bad local header for member '\(mname)'", loff) }
            let start = loff + 30 + r16(loff + 26) + r16(loff + 28)
            guard start + csize <= data.count else { throw bad("member '\(mname)' is truncated (\(csize) bytes from offset \(start), file has \(data.count))", loff) }
            var bytes: [UInt8]
            switch method {
            case 0: bytes = Array(data[start..<(start + csize)])
            case 8: bytes = try NPZ.inflateRaw(data, start, csize, usize, name: "\(name):\(mname)")
            default: throw bad("member '\(mname)' uses compression method \(method); only stored and deflate are supported")
            }
            guard bytes.count == usize else { throw bad("member '\(mname)' has the wrong size", start) }
            let c = bytes.withUnsafeBytes { crc32Of($0) }
            guard c == crc else { throw bad("member '\(mname)' fails its CRC check (corrupt file)", start) }
            members.append((mname, bytes))
        }
    }

    private static func inflateRaw(_ data: [UInt8], _ start: Int, _ csize: Int, _ usize: Int, name: String) throws -> [UInt8] {
        // At least one byte of room: zlib rejects a null output pointer, which an empty array would give.
        var out = [UInt8](repeating: 0, count: max(usize, 1))
        var zs = z_stream()
        guard inflateInit2_(&zs, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw PVError.io(file: name, "zlib init failed")
        }
        defer { inflateEnd(&zs) }
        let rc: Int32 = data.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                zs.next_in = UnsafeMutablePointer(mutating: src.baseAddress!.assumingMemoryBound(to: Bytef.self) + start)
                zs.avail_in = uInt(csize)
                zs.next_out = dst.baseAddress?.assumingMemoryBound(to: Bytef.self)
                zs.avail_out = uInt(usize)
                return inflate(&zs, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END, Int(zs.total_out) == usize else {
            let msg = zs.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
            throw PVError.badInput(file: name, "corrupt compressed member: \(msg)")
        }
        if usize == 0 { out.removeAll() }
        return out
    }
}
