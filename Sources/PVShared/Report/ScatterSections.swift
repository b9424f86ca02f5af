import Foundation

/// Pearson correlation of two equally long vectors (0 when either is constant).
func pearson(_ a: [Double], _ b: [Double]) -> Double {
    let n = Double(a.count)
    guard a.count == b.count, a.count > 1 else { return 0 }
    let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for i in a.indices { let x = a[i] - ma, y = b[i] - mb; sab += x * y; saa += x * x; sbb += y * y }
    return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
}

/// Predicted-against-true scatters of the held-out doubles: the mean change from control (every gene one dot, the
/// top DE genes highlighted), and the interaction, the part of a double's change that the sum of its singles misses.
public enum ScatterSections {
    static let side = 220.0

    /// One figure: a panel per predictor, x = truth, y = prediction, same scale on both axes, y = x dashed.
    static func figure(title: String, panels: [(name: String, x: [Double], y: [Double])], de: [Int], genes: [String],
                       xLabel: String, yLabel: String) -> SVG {
        let m = Panel.margin
        let legend = Legend([(.dot(Palette.muted), "gene"), (.dot(Palette.highlight), "top DE gene"), (.dashed("#888"), "y = x")])
        let pw = m.left + side + m.right
        var svg = SVG(width: Double(panels.count) * pw + legend.width + 16, height: m.top + side + m.bottom + 8, title: title)
        let isDE = Set(de)
        for (k, p) in panels.enumerated() {
            let dom = LinearScale.extent(p.x + p.y, includeZero: true)
            let panel = Panel(x: Double(k) * pw + m.left, y: m.top, w: side, h: side, xDomain: dom, yDomain: dom)
            panel.drawAxes(&svg, title: p.name, xLabel: xLabel, yLabel: yLabel)
            panel.drawZeroLines(&svg)
            panel.drawDiagonal(&svg)
            for j in p.x.indices where !isDE.contains(j) {
                svg.circle(panel.sx(p.x[j]), panel.sy(p.y[j]), r: 2, fill: Palette.muted, opacity: 0.55)
            }
            for j in de where j < p.x.count {
                svg.circle(panel.sx(p.x[j]), panel.sy(p.y[j]), r: 3.2, fill: Palette.highlight, stroke: "#fff",
                           tooltip: String(format: "%@: true %.3f, predicted %.3f", genes[j], p.x[j], p.y[j]))
            }
            let r = pearson(p.x, p.y)
            let rde = pearson(de.map { p.x[$0] }, de.map { p.y[$0] })
            svg.text(String(format: "r = %.2f, DE r = %.2f", r, rde), panel.x + 6, panel.y + 14, size: 10.5, fill: "#333")
        }
        legend.draw(&svg, x: Double(panels.count) * pw + 8, y: m.top)
        return svg
    }

    public static func changes(_ data: ChangeData, order: [String]) -> ReportSection {
        var body = ""
        for d in data.doubles {
            let panels = order.compactMap { n in d.predicted[n].map { (n, d.trueChange, $0) } }
            let svg = figure(title: "Predicted vs true change, \(d.condition)", panels: panels, de: d.deGenes, genes: data.genes,
                             xLabel: "true change from control", yLabel: "predicted change")
            body += HTML.figure(svg, heading: d.condition, caption: "\(d.condition): mean change from the control mean, one dot per gene (\(data.genes.count) genes); \(d.deGenes.count) top DE genes highlighted.")
        }
        for s in data.skipped { body += HTML.note(s) }
        if data.doubles.isEmpty { body += HTML.note("No double perturbation among the held-out conditions.") }
        let how = """
            One row per held-out double, one panel per predictor. Each dot is a gene: its true mean change from control \
            (x) against the predicted one (y). A perfect prediction puts every dot on the dashed diagonal; dots flattened \
            towards y = 0 mean the change is underestimated, dots across the diagonal's other side a wrong direction. \
            The orange genes are the top differentially expressed ones, where the biology is; r is the Pearson \
            correlation of the changes (pearson_delta) over all genes and over those genes. Hover a DE gene for its name.
            """
        return ReportSection(id: "changes", title: "Held-out doubles: predicted vs true change", howToRead: how, body: body)
    }

    public static func interactions(_ data: ChangeData, order: [String]) -> ReportSection {
        var body = ""
        for d in data.doubles {
            guard let add = d.additiveTruth else { continue }
            let trueI = zip(d.trueChange, add).map { $0 - $1 }
            let panels = order.compactMap { n in d.predicted[n].map { (n, trueI, zip($0, add).map { $0 - $1 }) } }
            let svg = figure(title: "Predicted vs true interaction, \(d.condition)", panels: panels, de: d.deGenes, genes: data.genes,
                             xLabel: "true interaction", yLabel: "predicted interaction")
            body += HTML.figure(svg, heading: d.condition, caption: "\(d.condition): change minus the sum of the true single-gene changes, one dot per gene.")
        }
        for s in data.skipped { body += HTML.note(s) }
        if data.doubles.allSatisfy({ $0.additiveTruth == nil }) { body += HTML.note("No held-out double whose two singles have cells in expr.npy.") }
        let how = """
            The interaction is what a double does beyond the sum of its parts: its true change minus the sum of the two \
            single-gene changes measured in the data (x), against the same for the prediction (y, predicted change minus \
            the same true single-gene sum). The additive predictor assumes no interaction, so its dots lie near y = 0 \
            (exactly 0 when it was fitted on the same single-gene cells); a model that has learnt genetic interactions \
            puts dots along the diagonal. A cloud with r near 0 means the model's deviations from additive are noise.
            """
        return ReportSection(id: "interactions", title: "Held-out doubles: predicted vs true interaction", howToRead: how, body: body)
    }
}
