import Foundation

/// A type an option's value can have: how its command-line text parses, what a malformed value should have been,
/// and how a value reads in help. Int, Double, String, Bool (flags), optionals of these and `OptionChoice` enums.
public protocol OptionValue {
    /// The value of a command-line text; nil when the text is malformed.
    static func parse(_ text: String) -> Self?
    /// What a value must look like, for "option --x: expected …, got '…'".
    static var expected: String { get }
    /// The value as help shows it (`[default: …]`); nil for "no value" (an unset optional).
    var optionText: String? { get }
    /// The value as a number, for range checks; nil where it is not numeric (or unset).
    var numeric: Double? { get }
}

extension OptionValue {
    public var numeric: Double? { nil }
}

extension Int: OptionValue {
    /// Also 1e4-style integers, common in scientific command lines.
    public static func parse(_ text: String) -> Int? {
        if let i = Int(text) { return i }
        if let d = Double(text), d.isFinite, d == d.rounded(), abs(d) < 9e18 { return Int(d) }
        return nil
    }
    public static var expected: String { "an integer" }
    public var optionText: String? { String(self) }
    public var numeric: Double? { Double(self) }
}

extension Double: OptionValue {
    public static func parse(_ text: String) -> Double? {
        guard let d = Double(text), d.isFinite else { return nil }
        return d
    }
    public static var expected: String { "a number" }
    public var optionText: String? { Option<Double>.format(self) }
    public var numeric: Double? { self }
}

extension String: OptionValue {
    public static func parse(_ text: String) -> String? { text }
    public static var expected: String { "a text" }
    public var optionText: String? { self }
}

/// A flag: present or not; it takes no value.
extension Bool: OptionValue {
    public static func parse(_ text: String) -> Bool? { text == "true" ? true : nil }
    public static var expected: String { "no value" }
    public var optionText: String? { nil }
}

/// An option without a default: nil unless given.
extension Optional: OptionValue where Wrapped: OptionValue {
    public static func parse(_ text: String) -> Wrapped?? { Wrapped.parse(text).map { .some($0) } }
    public static var expected: String { Wrapped.expected }
    public var optionText: String? { self?.optionText }
    public var numeric: Double? { self?.numeric }
}

/// A closed set of words (a model kind, a scheme): an enum whose raw values are the words the command line takes.
public protocol OptionChoice: OptionValue, CaseIterable, RawRepresentable where RawValue == String {}

extension OptionChoice {
    public static func parse(_ text: String) -> Self? { Self(rawValue: text) }
    public static var expected: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
    public var optionText: String? { rawValue }
}

/// A bound on a numeric option, checked when the command line is parsed.
public enum OptionLimit {
    case atLeast(Double)
    case above(Double)
    case within(Double, Double)

    /// The complaint about `value`, or nil when it is inside.
    func problem(_ value: Double) -> String? {
        let f = Option<Double>.format
        switch self {
        case .atLeast(let lo): return value >= lo ? nil : "must be at least \(f(lo))"
        case .above(let lo): return value > lo ? nil : "must be greater than \(f(lo))"
        case .within(let lo, let hi): return (lo...hi).contains(value) ? nil : "must be \(f(lo)) to \(f(hi))"
        }
    }
}

/// What the parser and the help page need of any option, whatever its value type.
public protocol OptionDeclaration {
    var name: String { get }
    var short: Character? { get }
    /// The value's name in help (`N`, `FILE`); nil for a flag.
    var valueName: String? { get }
    var help: String { get }
    /// The default as help shows it.
    var defaultText: String? { get }
    /// The help section; nil for the tool's first, untitled one.
    var group: String? { get }
    var repeatable: Bool { get }
    /// The values of the tool's mode option (`--model`, `--scheme`) under which this option has an effect; nil: all.
    var usedBy: [String]? { get }
    /// What is wrong with a value given on the command line (without the option's name); nil when it is fine.
    func problem(with text: String) -> String?
}

/// One command-line option, declared once: name, value type, typed default, help, bound, help section and the modes
/// that use it. Help, parsing, range checks, "does not use" warnings and the settings structs' defaults all come
/// from the declaration. `Option<Int?>` has no default (nil unless given); `Option<Bool>` is a flag.
public struct Option<Value: OptionValue>: OptionDeclaration {
    public let name: String
    public let short: Character?
    public let valueName: String?
    public let help: String
    /// The value when the option is not given.
    public let defaultValue: Value
    public let group: String?
    public let repeatable: Bool
    public let usedBy: [String]?
    let limit: OptionLimit?
    /// A word that stands for the default on the command line (`auto`); help shows it as the default.
    let defaultWord: String?
    /// Prose for a default that is computed (`median of per-cell totals`).
    let defaultProse: String?

    public init(_ name: String, short: Character? = nil, _ valueName: String, default defaultValue: Value,
                _ limit: OptionLimit? = nil, group: String? = nil, usedBy: [String]? = nil, repeatable: Bool = false,
                defaultWord: String? = nil, defaultText: String? = nil, help: String) {
        self.name = name; self.short = short; self.valueName = valueName; self.defaultValue = defaultValue
        self.limit = limit; self.group = group; self.usedBy = usedBy; self.repeatable = repeatable
        self.defaultWord = defaultWord; self.defaultProse = defaultText; self.help = help
    }

    public var defaultText: String? { defaultProse ?? defaultWord ?? defaultValue.optionText }

    public func problem(with text: String) -> String? {
        if text == defaultWord { return nil }
        guard let v = Value.parse(text) else { return "option --\(name): expected \(Value.expected), got '\(text)'" }
        if let limit, let x = v.numeric, let p = limit.problem(x) { return "--\(name) \(p), got \(text)" }
        return nil
    }

    /// The value of a command-line text that `problem(with:)` accepted.
    func value(_ text: String) -> Value {
        if text == defaultWord { return defaultValue }
        return Value.parse(text) ?? defaultValue
    }

    /// Numbers in help and messages: 0.1 not 0.10000000000000001, 1e-4 not 0.0001, 20 not 20.0.
    static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        if abs(x) < 1e-3 {
            let e = Int((log10(abs(x))).rounded(.down)), m = String(format: "%g", x / pow(10, Double(e)))
            if Double(m + "e\(e)") == x { return m + "e\(e)" }
        }
        let s = String(format: "%g", x)
        return Double(s) == x ? s : String(x)
    }
}

extension Option where Value == Bool {
    /// A switch: false unless given.
    public init(flag name: String, short: Character? = nil, group: String? = nil, usedBy: [String]? = nil, help: String) {
        self.name = name; self.short = short; self.valueName = nil; self.defaultValue = false; self.limit = nil
        self.group = group; self.usedBy = usedBy; self.repeatable = false; self.defaultWord = nil
        self.defaultProse = nil; self.help = help
    }
}

/// Several usage errors gathered, so that one run names every one of them (as bustools does).
public struct UsageErrors {
    public private(set) var messages: [String] = []
    public init() {}
    /// Records `message` unless `ok`.
    public mutating func check(_ ok: Bool, _ message: @autoclosure () -> String) { if !ok { messages.append(message()) } }
    public mutating func add(_ message: String) { messages.append(message) }
    /// Throws one usage error listing every message, one a line; nothing when there are none.
    public func throwIfAny() throws {
        if !messages.isEmpty { throw PVError.usage(messages.joined(separator: "\n")) }
    }
}

/// What a tool prints instead of running (--help, --version); the runner prints it on stdout and exits 0.
public struct EarlyExit: Error, Equatable {
    public let text: String
}

extension Option where Value == Int {
    /// `--seed N`: a non-negative random seed, 0 by default (every tool that draws random numbers).
    public static func seed(group: String? = nil, usedBy: [String]? = nil, help: String) -> Option<Int> {
        Option("seed", "N", default: 0, .atLeast(0), group: group, usedBy: usedBy, help: help)
    }
}
