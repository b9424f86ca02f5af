import Foundation

/// A trained predictor on disk: an `.npz` whose `.npy` members are float32 tensors and whose `meta.json` member
/// holds the kind (`pvae`, `control`, `mean`, `additive`, ...), hyperparameters, gene and target lists, seed,
/// training history and tool version. `np.load("model.npz")` opens it; `json.loads(z["meta.json"])` reads the meta.
public struct ModelFile {
    public var kind: String
    /// Everything else in meta.json (JSON-compatible values).
    public var meta: [String: Any]
    public var genes: [String]
    public var targets: [String]
    /// The file it was read from, as messages name it ("model" for one built in memory).
    public var source = "model"
    /// Tensors by name, in insertion order.
    public private(set) var tensorNames: [String] = []
    private var tensors: [String: (shape: [Int], values: [Float])] = [:]
    /// The exact values of tensors stored as float64 (`setFloat64`, or float64 members of a file read), written
    /// back as float64: `tensor` gives them rounded to float32 like any other.
    private var exact: [String: [Double]] = [:]

    public init(kind: String, genes: [String], targets: [String], meta: [String: Any] = [:]) {
        self.kind = kind; self.genes = genes; self.targets = targets; self.meta = meta
    }

    public mutating func set(_ name: String, _ values: [Float], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "tensor \(name): shape \(shape) does not match \(values.count) values")
        if tensors[name] == nil { tensorNames.append(name) }
        tensors[name] = (shape, values)
        exact[name] = nil
    }

    /// Sets a tensor stored as float64, so its values survive a write and a read bit for bit.
    public mutating func setFloat64(_ name: String, _ values: [Double], shape: [Int]) {
        set(name, values.map { Float($0) }, shape: shape)
        exact[name] = values
    }

    /// A float64 tensor's exact values (nil when absent or stored as float32).
    public func float64(_ name: String) -> [Double]? { exact[name] }

    public func has(_ name: String) -> Bool { tensors[name] != nil }

    /// A tensor by name; a clear error names the model file when it is absent or mis-shaped.
    public func tensor(_ name: String, shape: [Int]? = nil, file: String? = nil) throws -> [Float] {
        let file = file ?? source
        guard let t = tensors[name] else { throw PVError.badInput(file: file, "model has no tensor '\(name)' (kind \(kind))") }
        if let shape, shape != t.shape {
            throw PVError.badInput(file: file, "tensor '\(name)' has shape \(t.shape), expected \(shape)")
        }
        return t.values
    }

    public func shape(_ name: String) -> [Int]? { tensors[name]?.shape }

    /// Throws naming `file`, the tensor and the position of the first non-finite value of any tensor: a model
    /// with NaN would otherwise predict NaN everywhere and exit 0.
    public func requireFinite(file: String? = nil) throws {
        for n in tensorNames {
            let t = tensors[n]!
            if let i = t.values.firstIndex(where: { !$0.isFinite }) {
                throw PVError.badInput(file: file ?? source, "tensor '\(n)' (shape \(t.shape)) has \(t.values[i]) at \(FiniteValues.position(i, shape: t.shape)); a model's values must be finite")
            }
        }
    }

    /// Writes the model atomically.
    public func write(_ path: String) throws {
        var npz = NPZ()
        for n in tensorNames {
            let t = tensors[n]!
            if let d = exact[n] { npz.add(n, doubles: d, shape: t.shape) } else { npz.add(n, t.values, shape: t.shape) }
        }
        var m = meta
        m["kind"] = kind
        m["genes"] = genes
        m["targets"] = targets
        m["version"] = pvVersion
        m["tool"] = ToolContext.name
        m["command"] = ToolContext.commandLine
        // Checked first: NaN, infinity or a non-JSON value would otherwise fail deep in Foundation (an uncatchable
        // exception on Darwin) or with an unhelpful message.
        guard JSONSerialization.isValidJSONObject(m) else {
            throw PVError.io(file: path, "cannot encode meta.json: a value is not JSON (NaN, infinity or an unsupported type)")
        }
        let json: Data
        do { json = try JSONSerialization.data(withJSONObject: m, options: [.sortedKeys, .prettyPrinted]) } catch {
            throw PVError.io(file: path, "cannot encode meta.json: \(error)")
        }
        npz.addRaw("meta.json", Array(json))
        try npz.write(path)
    }

    /// Reads a model file, validating meta.json and every tensor.
    public init(path: String) throws {
        let name = displayName(path)
        source = name
        let npz = try NPZ(path: path)
        guard let metaBytes = npz.raw("meta.json") else {
            throw PVError.badInput(file: name, "not a pv model: no meta.json member")
        }
        guard let obj = try? JSONSerialization.jsonObject(with: Data(metaBytes)), let m = obj as? [String: Any] else {
            throw PVError.badInput(file: name, "meta.json is not a JSON object")
        }
        guard let kind = m["kind"] as? String else { throw PVError.badInput(file: name, "meta.json lacks 'kind'") }
        self.kind = kind
        genes = m["genes"] as? [String] ?? []
        targets = m["targets"] as? [String] ?? []
        var rest = m
        for k in ["kind", "genes", "targets"] { rest.removeValue(forKey: k) }
        meta = rest
        for member in npz.members where member.name.hasSuffix(".npy") {
            let tname = String(member.name.dropLast(4))
            let a = try member.bytes.withUnsafeBytes { try NPYArray(bytes: $0, name: "\(name):\(member.name)") }
            set(tname, a.floatArray(), shape: a.shape)
            if a.dtype == .float64 { exact[tname] = a.doubleArray() }
        }
    }
}
