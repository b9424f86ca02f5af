import Foundation

/// Tick positions and labels of a numeric axis: "nice" steps of 1, 2 or 5 × 10^k (after Heckbert), so labels are
/// short and round.
public enum Ticks {
    /// A nice number close to `x` (rounded, or the next one up when `round` is false).
    static func nice(_ x: Double, round: Bool) -> Double {
        let e = floor(log10(x)), f = x / pow(10, e)
        let n: Double = round ? (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) : (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10)
        return n * pow(10, e)
    }

    /// The step between about `count` ticks over [lo, hi].
    public static func step(_ lo: Double, _ hi: Double, count: Int = 5) -> Double {
        nice(max(hi - lo, 1e-12) / Double(max(count - 1, 1)), round: true)
    }

    /// Tick values inside [lo, hi], multiples of `step(lo, hi)`.
    public static func values(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        let s = step(lo, hi, count: count)
        var v = ceil(lo / s - 1e-9) * s
        var out: [Double] = []
        while v <= hi + s * 1e-9 && out.count < 50 {
            out.append(abs(v) < s * 1e-9 ? 0 : v)
            v += s
        }
        return out
    }

    /// A label for tick `v` of an axis whose ticks are `step` apart: as many decimals as the step needs.
    public static func label(_ v: Double, step: Double) -> String {
        let a = max(abs(v), step)
        if a >= 1e5 || a < 1e-3 { return String(format: "%.0e", v) }
        let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
        return String(format: "%.\(decimals)f", v)
    }
}

/// A linear map from a data interval to a pixel interval (reversed for y, whose pixels grow downwards).
public struct LinearScale {
    public var lo: Double, hi: Double, from: Double, to: Double
    public init(domain: (Double, Double), range: (Double, Double)) {
        lo = domain.0; hi = domain.1 > domain.0 ? domain.1 : domain.0 + 1; from = range.0; to = range.1
    }
    public func callAsFunction(_ x: Double) -> Double { from + (x - lo) / (hi - lo) * (to - from) }

    /// The interval spanned by `values` (finite only), padded by `pad` of its width on both sides; [-1, 1] if empty.
    public static func extent(_ values: [Double], pad: Double = 0.05, includeZero: Bool = false) -> (Double, Double) {
        var lo = Double.infinity, hi = -Double.infinity
        for v in values where v.isFinite { lo = min(lo, v); hi = max(hi, v) }
        if includeZero { lo = min(lo, 0); hi = max(hi, 0) }
        guard lo.isFinite else { return (-1, 1) }
        if hi - lo < 1e-12 { return (lo - 1, hi + 1) }
        let p = (hi - lo) * pad
        return (lo - p, hi + p)
    }
}

/// One plotting panel of a figure: a frame at (x, y) of size w × h with scales, light grid, ticks with labels,
/// axis titles and a panel title. Figures place several side by side.
public struct Panel {
    public let x: Double, y: Double, w: Double, h: Double
    public let sx: LinearScale, sy: LinearScale

    /// Space a panel needs around its frame for tick labels and titles (left, top, right, bottom).
    public static let margin = (left: 52.0, top: 24.0, right: 12.0, bottom: 40.0)

    public init(x: Double, y: Double, w: Double, h: Double, xDomain: (Double, Double), yDomain: (Double, Double)) {
        self.x = x; self.y = y; self.w = w; self.h = h
        sx = LinearScale(domain: xDomain, range: (x, x + w))
        sy = LinearScale(domain: yDomain, range: (y + h, y))
    }

    /// Frame, grid, ticks and labels; the data are drawn after this, so they lie on top of the grid.
    public func drawAxes(_ svg: inout SVG, title: String, xLabel: String, yLabel: String) {
        svg.rect(x, y, w, h, fill: "#fff", stroke: Palette.axis, strokeWidth: 1)
        let xs = Ticks.step(sx.lo, sx.hi), ys = Ticks.step(sy.lo, sy.hi)
        for v in Ticks.values(sx.lo, sx.hi) {
            let px = sx(v)
            svg.line(px, y, px, y + h, stroke: Palette.grid)
            svg.line(px, y + h, px, y + h + 4, stroke: Palette.axis)
            svg.text(Ticks.label(v, step: xs), px, y + h + 15, size: 10, anchor: .middle, fill: Palette.axis)
        }
        for v in Ticks.values(sy.lo, sy.hi) {
            let py = sy(v)
            svg.line(x, py, x + w, py, stroke: Palette.grid)
            svg.line(x - 4, py, x, py, stroke: Palette.axis)
            svg.text(Ticks.label(v, step: ys), x - 6, py + 3.5, size: 10, anchor: .end, fill: Palette.axis)
        }
        svg.rect(x, y, w, h, fill: "none", stroke: Palette.axis, strokeWidth: 1)
        svg.text(title, x + w / 2, y - 8, size: 12, anchor: .middle, weight: "bold")
        svg.text(xLabel, x + w / 2, y + h + 32, size: 11, anchor: .middle)
        svg.text(yLabel, x - 40, y + h / 2, size: 11, anchor: .middle, rotate: -90)
    }

    /// The dashed identity line y = x over the part of the panel where both scales overlap.
    public func drawDiagonal(_ svg: inout SVG) {
        let lo = max(sx.lo, sy.lo), hi = min(sx.hi, sy.hi)
        guard hi > lo else { return }
        svg.line(sx(lo), sy(lo), sx(hi), sy(hi), stroke: "#888", width: 1, dash: "4 3")
    }

    /// Dotted zero lines, where zero is inside the panel.
    public func drawZeroLines(_ svg: inout SVG) {
        if sx.lo < 0 && sx.hi > 0 { svg.line(sx(0), y, sx(0), y + h, stroke: "#bbb", dash: "2 2") }
        if sy.lo < 0 && sy.hi > 0 { svg.line(x, sy(0), x + w, sy(0), stroke: "#bbb", dash: "2 2") }
    }
}

/// A legend: one row per entry with a swatch (dot, line or dashed line) and its label.
public struct Legend {
    public enum Swatch { case dot(String), line(String), dashed(String) }
    public var entries: [(Swatch, String)]
    public init(_ entries: [(Swatch, String)]) { self.entries = entries }

    /// Width the legend needs at font size 11 (a rough estimate of the label width).
    public var width: Double { 26 + Double(entries.map { $0.1.count }.max() ?? 0) * 6.2 }
    public var height: Double { Double(entries.count) * 16 + 6 }

    public func draw(_ svg: inout SVG, x: Double, y: Double) {
        for (i, (sw, label)) in entries.enumerated() {
            let cy = y + 10 + Double(i) * 16
            switch sw {
            case .dot(let c): svg.circle(x + 8, cy, r: 4, fill: c)
            case .line(let c): svg.line(x, cy, x + 18, cy, stroke: c, width: 2)
            case .dashed(let c): svg.line(x, cy, x + 18, cy, stroke: c, width: 1.5, dash: "4 3")
            }
            svg.text(label, x + 24, cy + 4, size: 11)
        }
    }
}
