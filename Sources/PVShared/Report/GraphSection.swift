import Foundation

/// The learned causal graph of a pvae model: Λ_νν under the control label drawn as a directed graph over the
/// response latents (edges with |weight| above the threshold), and each target's program as a heatmap.
public enum GraphSection {
    /// Nodes on a circle, edges as arrows coloured by sign and as thick as |weight|; under each node the targets
    /// whose program moves it most.
    public static func graphFigure(name: String, graph g: LearnedGraph, targets: [String], threshold: Float) -> SVG {
        let d = g.nodes, R = max(110.0, Double(d) * 14), cx = R + 90, cy = R + 50, nodeR = 15.0
        let edges = g.edges(label: 0, threshold: threshold)
        let maxW = Double(edges.map { abs($0.weight) }.max() ?? 1)
        let legend = Legend([(.line(Palette.highlight), "positive weight"), (.line(Palette.color(0)), "negative weight")])
        var svg = SVG(width: 2 * cx + legend.width + 20, height: 2 * cy + 10, title: "Learned graph Λ_νν of \(name) (control label)")
        func pos(_ i: Int) -> (Double, Double) {
            let a = -Double.pi / 2 + 2 * Double.pi * Double(i) / Double(max(d, 1))
            return (cx + R * cos(a), cy + R * sin(a))
        }
        for e in edges {
            let (x1, y1) = pos(e.source), (x2, y2) = pos(e.target)
            let len = max(((x2 - x1) * (x2 - x1) + (y2 - y1) * (y2 - y1)).squareRoot(), 1e-9)
            let ux = (x2 - x1) / len, uy = (y2 - y1) / len
            let sx = x1 + ux * nodeR, sy = y1 + uy * nodeR, tx = x2 - ux * (nodeR + 2), ty = y2 - uy * (nodeR + 2)
            let colour = e.weight > 0 ? Palette.highlight : Palette.color(0)
            let width = 0.8 + 3.5 * Double(abs(e.weight)) / maxW
            svg.line(sx, sy, tx - ux * 7, ty - uy * 7, stroke: colour, width: width, opacity: 0.8)
            // Arrowhead: a triangle with its tip at the target node's rim.
            let bx = tx - ux * 9, by = ty - uy * 9, px = -uy * 4.5, py = ux * 4.5
            svg.polygon([(tx, ty), (bx + px, by + py), (bx - px, by - py)], fill: colour)
        }
        var byNode = [[String]](repeating: [], count: d)
        for k in targets.indices where k < g.programs.count {
            let (n, w) = g.programNode(k)
            if w != 0 { byNode[n].append(targets[k]) }
        }
        for i in 0..<d {
            let (x, y) = pos(i)
            svg.circle(x, y, r: nodeR, fill: "#fff", stroke: Palette.axis,
                       tooltip: "z_resp_\(i + 1): program of \(byNode[i].isEmpty ? "no target" : byNode[i].joined(separator: ", "))")
            svg.text("z\(i + 1)", x, y + 4, size: 11, anchor: .middle, weight: "bold")
            if !byNode[i].isEmpty {
                let list = byNode[i].count > 3 ? byNode[i].prefix(3).joined(separator: ", ") + " +\(byNode[i].count - 3)" : byNode[i].joined(separator: ", ")
                let below = y >= cy
                svg.text(list, x, below ? y + nodeR + 13 : y - nodeR - 6, size: 9.5, anchor: .middle, fill: "#555")
            }
        }
        legend.draw(&svg, x: 2 * cx + 10, y: 20)
        svg.text("|w| > \(threshold), max \(String(format: "%.2f", maxW))", 2 * cx + 10, 20 + legend.height + 12, size: 10.5, fill: "#555")
        svg.text("\(edges.count) edge\(edges.count == 1 ? "" : "s")", 2 * cx + 10, 20 + legend.height + 27, size: 10.5, fill: "#555")
        return svg
    }

    /// Targets × response latents, μ_ν(e_k) − μ_ν(0) on a blue–white–red scale; the node a program moves most is
    /// outlined.
    public static func programFigure(name: String, graph g: LearnedGraph, targets: [String]) -> SVG {
        let d = g.nodes, K = min(targets.count, g.programs.count)
        let cw = 26.0, ch = 16.0
        let labelW = Double(targets.map(\.count).max() ?? 4) * 7 + 12, top = 40.0
        let maxAbs = Double(g.programs.flatMap { $0.map { abs($0) } }.max() ?? 1)
        let scaleW = 160.0
        var svg = SVG(width: labelW + Double(d) * cw + 40 + scaleW, height: top + Double(K) * ch + 30,
                      title: "Programs of \(name): μ_ν(target) − μ_ν(control)")
        for j in 0..<d { svg.text("z\(j + 1)", labelW + (Double(j) + 0.5) * cw, top - 8, size: 10.5, anchor: .middle) }
        for k in 0..<K {
            let y = top + Double(k) * ch
            svg.text(targets[k], labelW - 6, y + ch - 4, size: 10.5, anchor: .end)
            let (best, bw) = g.programNode(k)
            for j in 0..<d {
                let v = Double(g.programs[k][j])
                svg.rect(labelW + Double(j) * cw, y, cw, ch, fill: Palette.diverging(maxAbs > 0 ? v / maxAbs : 0),
                         tooltip: String(format: "%@ on z%d: %.3f", targets[k], j + 1, v))
            }
            if bw != 0 { svg.rect(labelW + Double(best) * cw + 1, y + 1, cw - 2, ch - 2, fill: "none", stroke: "#111", strokeWidth: 1.5) }
        }
        // Colour scale.
        let sx = labelW + Double(d) * cw + 30, steps = 20
        for s in 0..<steps {
            let t = -1 + 2 * (Double(s) + 0.5) / Double(steps)
            svg.rect(sx + Double(s) * scaleW / Double(steps), top, scaleW / Double(steps) + 0.5, 12, fill: Palette.diverging(t))
        }
        svg.rect(sx, top, scaleW, 12, fill: "none", stroke: Palette.axis, strokeWidth: 0.8)
        svg.text(String(format: "%.2f", -maxAbs), sx, top + 26, size: 10, anchor: .start)
        svg.text("0", sx + scaleW / 2, top + 26, size: 10, anchor: .middle)
        svg.text(String(format: "%.2f", maxAbs), sx + scaleW, top + 26, size: 10, anchor: .end)
        svg.text("shift of μ_ν", sx, top - 8, size: 10.5)
        return svg
    }

    public static func make(models: [(name: String, graph: LearnedGraph, targets: [String])], threshold: Float) -> ReportSection {
        var body = ""
        for m in models {
            body += HTML.heading(m.name)
            body += HTML.figure(graphFigure(name: m.name, graph: m.graph, targets: m.targets, threshold: threshold),
                                caption: "\(m.name): Λ_νν under the control label, edges with |weight| > \(threshold) (pv-predict --graph lists the same edges for every label).")
            body += HTML.figure(programFigure(name: m.name, graph: m.graph, targets: m.targets),
                                caption: "\(m.name): each target's program, the shift of the response latents' prior mean it causes; the outlined cell is the node it moves most.")
        }
        if models.isEmpty { body += HTML.note("No pvae model given (--model NAME=model.npz).") }
        let how = """
            The circles are the response latents z_ν of the model; an arrow z_j → z_i is a learned causal edge \
            (an entry of Λ_νν above the threshold in absolute value, red positive, blue negative, thicker is stronger), \
            so a perturbation that moves z_j also moves z_i. The latents are only identified up to the model's \
            assumptions: read the graph as the structure the model uses to compose perturbations, not as gene \
            regulation. Under each node are the targets whose program moves it most. The heatmap shows every target's \
            program: how far it shifts each latent's mean; targets with similar rows act alike, and a double is \
            predicted by combining the two rows and propagating them through the graph.
            """
        return ReportSection(id: "graph", title: "Learned graph and programs", howToRead: how, body: body)
    }
}
