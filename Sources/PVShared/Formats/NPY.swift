import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Element types pv reads and writes in `.npy` files (little-endian only).
public enum NPYDType: String, Sendable {
    case float32 = "<f4", float64 = "<f8", int32 = "<i4", int64 = "<i8"
    public var size: Int { switch self { case .float32, .int32: return 4; case .float64, .int64: return 8 } }
}

/// The parsed header of an `.npy` file.
public struct NPYHeader: Equatable {
    public var dtype: NPYDType
    public var shape: [Int]
    public var count: Int { shape.reduce(1, *) }

    public init(dtype: NPYDType, shape: [Int]) { self.dtype = dtype; self.shape = shape }

    /// Serialises a format-1.0 header (2.0 when the header is too long), padded so data starts 64-byte aligned.
    /// `run` adds a Python comment `# run: ID` after the dictionary (NumPy's literal_eval skips it), so that an
    /// array written with text files can be told from another run's (`RunStamp`).
    public func encoded(run: String? = nil) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        if let run { dict += " # run: \(run)" }
        let v2 = dict.utf8.count + 11 > 65_000
        let pre = v2 ? 12 : 10
        let total = ((pre + dict.utf8.count + 1 + 63) / 64) * 64
        dict += String(repeating: " ", count: total - pre - dict.utf8.count - 1) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [v2 ? 2 : 1, 0]
        let hl = dict.utf8.count
        if v2 { out += [UInt8(hl & 0xff), UInt8((hl >> 8) & 0xff), UInt8((hl >> 16) & 0xff), UInt8(hl >> 24)] }
        else { out += [UInt8(hl & 0xff), UInt8(hl >> 8)] }
        out += Array(dict.utf8)
        return out
    }

    /// Parses the header at the start of `bytes`; returns it and the offset of the data.
    public static func parse(_ bytes: UnsafeRawBufferPointer, name: String) throws -> (NPYHeader, Int) {
        func bad(_ m: String, _ off: Int = 0) -> PVError { .badInput(file: name, offset: off, m) }
        let magic: [UInt8] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]  // \x93NUMPY
        let m = min(bytes.count, magic.count)
        guard m > 0, (0..<m).allSatisfy({ bytes[$0] == magic[$0] }) else { throw bad("not a NumPy .npy file (bad magic)") }
        // A file that stops inside the fixed preamble is a truncated .npy, not some other format.
        guard bytes.count >= 10 else { throw bad("truncated .npy header (file has only \(bytes.count) bytes)") }
        let major = bytes[6]
        let hlen: Int, pre: Int
        switch major {
        case 1: hlen = Int(bytes[8]) | Int(bytes[9]) << 8; pre = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated .npy header") }
            hlen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; pre = 12
        default: throw bad("unsupported .npy format version \(major).\(bytes[7])", 6)
        }
        guard bytes.count >= pre + hlen else { throw bad("truncated .npy header (expected \(hlen) header bytes)") }
        guard let text = String(bytes: UnsafeRawBufferPointer(rebasing: bytes[pre..<(pre + hlen)]), encoding: .ascii) else {
            throw bad("unreadable .npy header", pre)
        }
        func field(_ key: String) -> Substring? {
            guard let r = text.range(of: "'\(key)':") else { return nil }
            return text[r.upperBound...].drop(while: { $0 == " " })
        }
        guard let d = field("descr"), d.first == "'" || d.first == "\"" else { throw bad("`.npy` header lacks 'descr'", pre) }
        let dq = d.first!
        let descr = String(d.dropFirst().prefix(while: { $0 != dq }))
        let norm = descr.replacingOccurrences(of: "=", with: "<").replacingOccurrences(of: "|", with: "<")
        guard let dtype = NPYDType(rawValue: norm) else {
            throw bad("unsupported dtype '\(descr)' (expected float32 '<f4', float64 '<f8', int32 '<i4' or int64 '<i8', little-endian)", pre)
        }
        guard let fo = field("fortran_order") else { throw bad("`.npy` header lacks 'fortran_order'", pre) }
        if fo.hasPrefix("True") { throw bad("Fortran-ordered array; save it in C order (np.ascontiguousarray)", pre) }
        guard let s = field("shape"), s.first == "(", let close = s.firstIndex(of: ")") else {
            throw bad("`.npy` header lacks 'shape'", pre)
        }
        var shape: [Int] = []
        for part in s[s.index(after: s.startIndex)..<close].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw bad("bad shape entry '\(t)'", pre) }
            shape.append(v)
        }
        // The element and byte counts must fit in Int: a corrupt shape must not overflow into a plausible size.
        var bytesNeeded = dtype.size
        for v in shape {
            let (p, o) = bytesNeeded.multipliedReportingOverflow(by: v)
            guard !o else { throw bad("shape \(shape) is too large", pre) }
            bytesNeeded = p
        }
        return (NPYHeader(dtype: dtype, shape: shape), pre + hlen)
    }
}

/// A read-only `.npy` array, memory-mapped from disk (or held in memory when read from stdin or a zip member).
public final class NPYArray {
    public let header: NPYHeader
    public let name: String
    /// Start of the element data.
    public let data: UnsafeRawPointer

    public var shape: [Int] { header.shape }
    public var dtype: NPYDType { header.dtype }
    public var count: Int { header.count }

    /// Opens `path` (`-` for stdin), validating magic, version, dtype, order and that the body matches the shape.
    public init(path: String) throws {
        name = displayName(path)
        var fd: Int32 = -1
        var st = stat()
        if path != "-" {
            fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw PVError.missingInput(file: path, "cannot open: \(String(cString: strerror(errno)))") }
            fstat(fd, &st)
            if (st.st_mode & S_IFMT) == S_IFDIR {
                close(fd); throw PVError.missingInput(file: path, "is a folder, expected a .npy file")
            }
        }
        // stdin, pipes and process substitution (<(...)) cannot be mapped and report size 0: read them instead,
        // from the descriptor already open (reopening a FIFO would wait for a second writer).
        if path == "-" || (st.st_mode & S_IFMT) != S_IFREG {
            let bytes: [UInt8]
            if path == "-" { bytes = try ByteSource(path: "-").readAll() } else {
                defer { close(fd) }
                bytes = try NPYArray.readAll(fd, name: name)
            }
            (header, data) = try NPYArray.inMemory(bytes, name: name)
            return
        }
        defer { close(fd) }
        let size = Int(st.st_size)
        guard size > 0 else { throw PVError.badInput(file: path, "empty file, expected a NumPy .npy array") }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw PVError.io(file: path, "cannot map: \(String(cString: strerror(errno)))")
        }
        if size >= 2 && p.load(as: UInt8.self) == 0x1f && p.load(fromByteOffset: 1, as: UInt8.self) == 0x8b {
            // A gzip-compressed .npy (expr.npy.gz): gzip is transparent on every input, but only a plain file maps.
            munmap(p, size)
            (header, data) = try NPYArray.inMemory(try ByteSource(path: path).readAll(), name: name)
            return
        }
        do {
            let (h, off) = try NPYArray.validate(UnsafeRawBufferPointer(start: p, count: size), name: name)
            header = h; data = UnsafeRawPointer(p + off)
        } catch { munmap(p, size); throw error }
    }

    /// Copies a whole `.npy` image into an aligned buffer and validates it.
    private static func inMemory(_ bytes: [UInt8], name: String) throws -> (NPYHeader, UnsafeRawPointer) {
        if bytes.isEmpty { throw PVError.badInput(file: name, "empty input, expected a NumPy .npy array") }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 64)
        bytes.withUnsafeBytes { buf.copyMemory(from: $0) }
        do {
            let (h, off) = try NPYArray.validate(UnsafeRawBufferPointer(buf), name: name)
            return (h, UnsafeRawPointer(buf.baseAddress! + off))
        } catch { buf.deallocate(); throw error }
    }

    /// Parses an in-memory `.npy` image (copied).
    public init(bytes: UnsafeRawBufferPointer, name: String) throws {
        self.name = name
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if bytes.count > 0 { buf.copyMemory(from: bytes) }
        do {
            let (h, off) = try NPYArray.validate(UnsafeRawBufferPointer(rebasing: buf[0..<bytes.count]), name: name)
            header = h; data = UnsafeRawPointer(buf.baseAddress! + off)
        } catch { buf.deallocate(); throw error }
    }

    // The mapping (or owned copy) is deliberately kept until the process exits: Swift may release an object right
    // after its last use, before buffers handed out by `floats()`/`matrix()` are done with, and a tool reads each
    // input once, so unmapping early buys nothing and risks a use-after-free under -O.

    private static func readAll(_ fd: Int32, name: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PVError.io(file: name, "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    private static func validate(_ bytes: UnsafeRawBufferPointer, name: String) throws -> (NPYHeader, Int) {
        let (h, off) = try NPYHeader.parse(bytes, name: name)
        let need = h.count * h.dtype.size
        let have = bytes.count - off
        if have < need {
            throw PVError.badInput(file: name, offset: bytes.count,
                                   "truncated .npy body: shape \(h.shape) needs \(need) bytes of data, file has \(have)")
        }
        if have > need {
            throw PVError.badInput(file: name, offset: off + need,
                                   "\(have - need) bytes after the data that shape \(h.shape) declares")
        }
        return (h, off)
    }

    /// The elements as float32; fails with a clear message for any other dtype.
    /// The buffer points into the array's mapping, which stays valid until the process exits (never unmapped).
    public func floats() throws -> UnsafeBufferPointer<Float> {
        guard dtype == .float32 else { throw PVError.badInput(file: name, "dtype is \(dtype.rawValue), expected float32 '<f4'") }
        return UnsafeBufferPointer(start: data.assumingMemoryBound(to: Float.self), count: count)
    }

    /// A 2-D float32 array as (rows, cols, elements); `values` has the same lifetime rule as `floats()`.
    public func matrix() throws -> (rows: Int, cols: Int, values: UnsafeBufferPointer<Float>) {
        guard shape.count == 2 else { throw PVError.badInput(file: name, "expected a 2-D array, got shape \(shape)") }
        return (shape[0], shape[1], try floats())
    }

    /// Elements converted to Int (int32 or int64 arrays).
    public func ints() throws -> [Int] {
        switch dtype {
        case .int32: return UnsafeBufferPointer(start: data.assumingMemoryBound(to: Int32.self), count: count).map(Int.init)
        case .int64: return UnsafeBufferPointer(start: data.assumingMemoryBound(to: Int64.self), count: count).map(Int.init)
        default: throw PVError.badInput(file: name, "dtype is \(dtype.rawValue), expected an integer array")
        }
    }

    /// Elements as Double, exactly for float64 and float32 arrays; nil for integer arrays.
    public func doubleArray() -> [Double]? {
        switch dtype {
        case .float64: return Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: Double.self), count: count))
        case .float32: return UnsafeBufferPointer(start: data.assumingMemoryBound(to: Float.self), count: count).map { Double($0) }
        default: return nil
        }
    }

    /// Elements converted to Float from any supported dtype (small arrays: model weights, truth tables).
    public func floatArray() -> [Float] {
        switch dtype {
        case .float32: return Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: Float.self), count: count))
        case .float64: return UnsafeBufferPointer(start: data.assumingMemoryBound(to: Double.self), count: count).map { Float($0) }
        case .int32: return UnsafeBufferPointer(start: data.assumingMemoryBound(to: Int32.self), count: count).map { Float($0) }
        case .int64: return UnsafeBufferPointer(start: data.assumingMemoryBound(to: Int64.self), count: count).map { Float($0) }
        }
    }
}

/// The bytes of a complete `.npy` file for the given elements.
public func npyBytes<T>(_ values: UnsafeBufferPointer<T>, dtype: NPYDType, shape: [Int]) -> [UInt8] {
    precondition(shape.reduce(1, *) == values.count && MemoryLayout<T>.size == dtype.size)
    var out = NPYHeader(dtype: dtype, shape: shape).encoded()
    out.append(contentsOf: UnsafeRawBufferPointer(values))
    return out
}

/// Writes a float32 array as `.npy`, atomically (`-` for stdout).
public func writeNPY(_ path: String, _ values: UnsafeBufferPointer<Float>, shape: [Int]) throws {
    precondition(shape.reduce(1, *) == values.count, "shape does not match element count")
    try writeFileAtomically(path) { out in
        try out.write(NPYHeader(dtype: .float32, shape: shape).encoded())
        try out.write(UnsafeRawBufferPointer(values))
    }
}

public func writeNPY(_ path: String, _ values: [Float], shape: [Int]) throws {
    try values.withUnsafeBufferPointer { try writeNPY(path, $0, shape: shape) }
}
