import Foundation

/// A fixed-size float32 buffer owned by pv (stable address, allocated once): parameters, gradients, activations.
public final class FloatBuffer {
    public let count: Int
    public let p: UnsafeMutablePointer<Float>

    public init(_ count: Int) {
        self.count = count
        p = .allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { p.deallocate() }

    public func zero() { p.update(repeating: 0, count: count) }
    public var array: [Float] { Array(UnsafeBufferPointer(start: p, count: count)) }
    public func copy(from a: [Float]) {
        precondition(a.count == count)
        a.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: count) }
    }
}

/// One named tensor inside the flat parameter buffer.
public struct TensorSpec {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// Fan-in used for PyTorch-style uniform ±1/sqrt(fanIn) initialisation.
    public let fanIn: Int
}

/// All parameters in one flat buffer and all gradients in another, with a named view per tensor, so that the
/// optimiser is one fused pass and a checkpoint is one array (llm.c style).
public final class ParamStore {
    public private(set) var specs: [TensorSpec] = []
    public let params: FloatBuffer
    public let grads: FloatBuffer
    private var index: [String: Int] = [:]

    /// `tensors`: (name, shape, fanIn) in storage order.
    public init(_ tensors: [(String, [Int], Int)]) {
        var off = 0
        for (n, s, f) in tensors {
            index[n] = specs.count
            specs.append(TensorSpec(name: n, shape: s, offset: off, fanIn: f))
            off += s.reduce(1, *)
        }
        params = FloatBuffer(off)
        grads = FloatBuffer(off)
    }

    public var count: Int { params.count }

    public func spec(_ name: String) -> TensorSpec {
        guard let i = index[name] else { fatalError("no tensor \(name)") }
        return specs[i]
    }

    public func has(_ name: String) -> Bool { index[name] != nil }
    public func param(_ name: String) -> UnsafeMutablePointer<Float> { params.p + spec(name).offset }
    public func grad(_ name: String) -> UnsafeMutablePointer<Float> { grads.p + spec(name).offset }

    /// PyTorch nn.Linear default: every weight and bias uniform in ±1/sqrt(fan_in), drawn in storage order.
    public func initialise(seed: UInt64) {
        var rng = RNG(seed: seed, stream: 0x1417)
        for s in specs {
            let bound = 1 / Float(max(s.fanIn, 1)).squareRoot()
            let p = params.p + s.offset
            for i in 0..<s.count { p[i] = Float(rng.uniform() * 2 - 1) * bound }
        }
    }

    /// The values of one tensor.
    public func values(_ name: String) -> [Float] {
        let s = spec(name)
        return Array(UnsafeBufferPointer(start: params.p + s.offset, count: s.count))
    }

    public func gradValues(_ name: String) -> [Float] {
        let s = spec(name)
        return Array(UnsafeBufferPointer(start: grads.p + s.offset, count: s.count))
    }
}
