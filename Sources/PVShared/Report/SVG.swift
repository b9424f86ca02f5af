import Foundation

/// Escapes text for XML character data and attribute values (the report is well-formed XML throughout, so a strict
/// parser reads every figure).
public func xmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default:
            // Control characters other than tab and newline are not allowed in XML 1.0.
            if c.value < 0x20 && c != "\t" && c != "\n" { out += " " } else { out.unicodeScalars.append(c) }
        }
    }
    return out
}

/// A coordinate or length in SVG user units, short (one decimal) so large scatters stay small.
func svgNum(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    let r = (x * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
}

/// A stand-alone SVG drawing built element by element (Foundation only). Coordinates are user units with y down;
/// `render()` gives an `<svg>` element with width, height and viewBox, ready to inline in HTML.
public struct SVG {
    public let width: Double
    public let height: Double
    /// Accessible name of the figure (`<title>`), read by screen readers and shown as a tooltip.
    public var title: String
    private var parts: [String] = []

    public init(width: Double, height: Double, title: String) {
        self.width = width; self.height = height; self.title = title
    }

    private static func attrs(_ a: [(String, String)]) -> String {
        a.map { " \($0.0)=\"\(xmlEscape($0.1))\"" }.joined()
    }

    public mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                              width: Double = 1, dash: String? = nil, opacity: Double? = nil) {
        var a = [("x1", svgNum(x1)), ("y1", svgNum(y1)), ("x2", svgNum(x2)), ("y2", svgNum(y2)),
                 ("stroke", stroke), ("stroke-width", svgNum(width))]
        if let dash { a.append(("stroke-dasharray", dash)) }
        if let opacity { a.append(("stroke-opacity", String(format: "%.2f", opacity))) }
        parts.append("<line\(SVG.attrs(a))/>")
    }

    public mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String,
                              stroke: String? = nil, strokeWidth: Double = 1, tooltip: String? = nil) {
        var a = [("x", svgNum(x)), ("y", svgNum(y)), ("width", svgNum(w)), ("height", svgNum(h)), ("fill", fill)]
        if let stroke { a += [("stroke", stroke), ("stroke-width", svgNum(strokeWidth))] }
        parts.append(tooltip.map { "<rect\(SVG.attrs(a))><title>\(xmlEscape($0))</title></rect>" } ?? "<rect\(SVG.attrs(a))/>")
    }

    public mutating func circle(_ cx: Double, _ cy: Double, r: Double, fill: String, stroke: String? = nil,
                                opacity: Double? = nil, tooltip: String? = nil) {
        var a = [("cx", svgNum(cx)), ("cy", svgNum(cy)), ("r", svgNum(r)), ("fill", fill)]
        if let stroke { a.append(("stroke", stroke)) }
        if let opacity { a.append(("fill-opacity", String(format: "%.2f", opacity))) }
        parts.append(tooltip.map { "<circle\(SVG.attrs(a))><title>\(xmlEscape($0))</title></circle>" } ?? "<circle\(SVG.attrs(a))/>")
    }

    /// An open polyline through `points` (non-finite points are skipped).
    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 1.5, dash: String? = nil) {
        let p = points.filter { $0.0.isFinite && $0.1.isFinite }.map { "\(svgNum($0.0)),\(svgNum($0.1))" }.joined(separator: " ")
        var a = [("points", p), ("fill", "none"), ("stroke", stroke), ("stroke-width", svgNum(width)),
                 ("stroke-linejoin", "round")]
        if let dash { a.append(("stroke-dasharray", dash)) }
        parts.append("<polyline\(SVG.attrs(a))/>")
    }

    /// A closed filled polygon (arrowheads, legend swatches).
    public mutating func polygon(_ points: [(Double, Double)], fill: String) {
        let p = points.map { "\(svgNum($0.0)),\(svgNum($0.1))" }.joined(separator: " ")
        parts.append("<polygon\(SVG.attrs([("points", p), ("fill", fill)]))/>")
    }

    public enum Anchor: String { case start, middle, end }

    /// Text at (x, y) (the baseline); `rotate` turns it about that point (−90 for a vertical axis label).
    public mutating func text(_ s: String, _ x: Double, _ y: Double, size: Double = 12, anchor: Anchor = .start,
                              fill: String = "#222", weight: String? = nil, rotate: Double? = nil) {
        var a = [("x", svgNum(x)), ("y", svgNum(y)), ("font-size", svgNum(size)), ("text-anchor", anchor.rawValue),
                 ("fill", fill)]
        if let weight { a.append(("font-weight", weight)) }
        if let rotate { a.append(("transform", "rotate(\(svgNum(rotate)) \(svgNum(x)) \(svgNum(y)))")) }
        parts.append("<text\(SVG.attrs(a))>\(xmlEscape(s))</text>")
    }

    /// The `<svg>` element: namespace, size, viewBox, title, then the elements in drawing order.
    public func render() -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(svgNum(width))\" height=\"\(svgNum(height))\" "
            + "viewBox=\"0 0 \(svgNum(width)) \(svgNum(height))\" role=\"img\" font-family=\"Helvetica, Arial, sans-serif\">"
            + "<title>\(xmlEscape(title))</title>" + parts.joined() + "</svg>"
    }
}

/// Colours shared by every figure: distinct for up to eight series, readable by most colour-blind viewers
/// (Okabe–Ito), plus a highlight and the diverging scale of heatmaps.
public enum Palette {
    public static let series = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
    public static func color(_ i: Int) -> String { series[((i % series.count) + series.count) % series.count] }
    public static let muted = "#9aa5b1"
    public static let highlight = "#D55E00"
    public static let grid = "#e6e9ed"
    public static let axis = "#444"

    /// Blue (−1) through white (0) to red (+1); `t` is clamped to [−1, 1].
    public static func diverging(_ t: Double) -> String {
        let u = max(-1, min(1, t.isFinite ? t : 0))
        let (r, g, b): (Double, Double, Double) = u >= 0
            ? (255, 255 - u * (255 - 60), 255 - u * (255 - 40))
            : (255 + u * (255 - 33), 255 + u * (255 - 102), 255 + u * (255 - 172))
        return String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
    }
}
