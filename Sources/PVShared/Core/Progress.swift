import Foundation

/// Progress on stderr: a redrawn bar with rate and ETA when stderr is a terminal, otherwise one plain line
/// every few seconds (so cluster logs stay readable). Silent under `--quiet`.
public final class Progress {
    let label: String
    let total: Int
    let unit: String
    let start = Date()
    /// The first line comes one interval after the start: a short job prints only its final line.
    lazy var lastDraw = start
    public private(set) var done = 0
    let tty = isatty(2) != 0
    let interval: TimeInterval
    /// Extra text shown after the counts (e.g. the current loss).
    public var detail = ""

    public init(_ label: String, total: Int, unit: String = "items", interval: TimeInterval? = nil) {
        self.label = label; self.total = total; self.unit = unit
        self.interval = interval ?? (isatty(2) != 0 ? 0.2 : 5)
    }

    public func advance(_ n: Int = 1) {
        done += n
        let now = Date()
        if now.timeIntervalSince(lastDraw) >= interval { draw(now) }
    }

    public func finish() {
        if ToolContext.quiet { return }
        draw(Date(), final: true)
        if tty { printErr("") }
    }

    private func draw(_ now: Date, final: Bool = false) {
        lastDraw = now
        if ToolContext.quiet { return }
        let el = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / el
        var s = "\(ToolContext.name): \(label) \(done)/\(total) \(unit)"
        s += String(format: " | %@/s", Progress.human(rate))
        if final { s += String(format: " | %.1fs", el) }
        else if rate > 0 && total > done { s += " | ETA " + Progress.clock(Double(total - done) / rate) }
        if !detail.isEmpty { s += " | " + detail }
        if tty {
            let frac = total > 0 ? min(1, Double(done) / Double(total)) : 0
            let w = 24, f = Int(frac * Double(w))
            let bar = "[" + String(repeating: "#", count: f) + String(repeating: ".", count: w - f) + "]"
            printErr("\r\u{1b}[2K" + bar + " " + s, terminator: "")
        } else if !final || done > 0 {
            printErr(s)
        }
    }

    static func human(_ x: Double) -> String {
        if x >= 1e9 { return String(format: "%.2fG", x / 1e9) }
        if x >= 1e6 { return String(format: "%.2fM", x / 1e6) }
        if x >= 1e3 { return String(format: "%.1fk", x / 1e3) }
        return String(format: "%.1f", x)
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}

/// Prints an informational line on stderr unless `--quiet`.
public func info(_ s: String) { if !ToolContext.quiet { printErr("\(ToolContext.name): \(s)") } }
