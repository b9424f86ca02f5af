import Foundation

/// Every failure a pv tool reports. Each case maps to one sysexits code (DESIGN.md §4) and renders as one line.
public enum PVError: Error, CustomStringConvertible, Equatable {
    /// Bad command line: unknown option, missing or malformed value (exit 64).
    case usage(String)
    /// Input data that is malformed. `line` is 1-based where the input is text, `offset` a byte offset otherwise (exit 65).
    case badInput(file: String, line: Int? = nil, offset: Int? = nil, String)
    /// An input file that does not exist or cannot be opened (exit 66).
    case missingInput(file: String, String)
    /// Reading or writing failed at the operating-system level (exit 74).
    case io(file: String, String)
    /// Numerical failure during computation, e.g. a diverging training run (exit 65, as the data cannot be used).
    case numerical(String)

    public var exitCode: Int32 {
        switch self {
        case .usage: return 64
        case .badInput, .numerical: return 65
        case .missingInput: return 66
        case .io: return 74
        }
    }

    public var description: String {
        switch self {
        case .usage(let m): return m
        case .badInput(let f, let line, let offset, let m):
            if let line { return "\(f):\(line): \(m)" }
            if let offset { return "\(f): byte \(offset): \(m)" }
            return "\(f): \(m)"
        case .missingInput(let f, let m): return "\(f): \(m)"
        case .io(let f, let m): return "\(f): \(m)"
        case .numerical(let m): return m
        }
    }
}

/// Display name of a path in messages: `-` is shown as `<stdin>`.
public func displayName(_ path: String) -> String { path == "-" ? "<stdin>" : path }
