import Foundation

/// Training curves of a pvae model from the history pv-train stores in meta.json: one panel per loss term (their
/// scales differ by orders of magnitude) and one for the validation loss, with the epoch whose weights were kept.
public enum TrainingCurvesSection {
    /// Terms in the order the training log prints them; unknown terms follow, sorted.
    static let order = ["loss", "mse", "mse0", "kl_resp", "kl_resp0", "kl_inv", "kl_inv0", "align", "val"]
    static let describe = [
        "loss": "total loss (training)", "mse": "reconstruction MSE, perturbed cells", "mse0": "reconstruction MSE, control cells",
        "kl_resp": "KL of z_resp, perturbed", "kl_resp0": "KL of z_resp, control", "kl_inv": "KL of z_inv, perturbed",
        "kl_inv0": "KL of z_inv, control", "align": "alignment term", "val": "validation loss",
    ]

    /// The figure of one model's history, or nil when it has none.
    public static func figure(name: String, meta: [String: Any]) -> SVG? {
        guard let history = meta["history"] as? [[String: Any]], !history.isEmpty else { return nil }
        func num(_ x: Any?) -> Double? { (x as? NSNumber)?.doubleValue }
        let epochs = history.map { num($0["epoch"]) ?? .nan }
        var terms = order.filter { k in history.contains { num($0[k]) != nil } }
        let other = Set(history.flatMap { $0.keys }).subtracting(order + ["epoch", "step"]).filter { k in history.contains { num($0[k]) != nil } }
        terms += other.sorted()
        let selected = meta["selected"] as? [String: Any]
        let selEpoch = num(selected?["epoch"])
        let by = selected?["by"] as? String ?? "last"
        let valMetric = (meta["hyper"] as? [String: Any])?["val_metric"] as? String

        let m = Panel.margin, pw = 250.0, ph = 150.0, perRow = 3
        let cellW = m.left + pw + m.right, cellH = m.top + ph + m.bottom
        let rowsN = (terms.count + perRow - 1) / perRow
        let legend = Legend([(.line(Palette.color(0)), "training, mean over the epoch's batches"), (.line(Palette.color(1)), "validation")]
                            + (selEpoch != nil ? [(.dashed(Palette.highlight), "kept weights: epoch \(Int(selEpoch!)) (by \(by))")] : []))
        var svg = SVG(width: Double(perRow) * cellW, height: Double(rowsN) * cellH + legend.height + 8,
                      title: "Training curves of \(name)")
        let xDom = LinearScale.extent(epochs, pad: 0.02)
        for (k, t) in terms.enumerated() {
            let ys = history.map { num($0[t]) ?? .nan }
            let px = Double(k % perRow) * cellW + m.left, py = Double(k / perRow) * cellH + m.top
            let panel = Panel(x: px, y: py, w: pw, h: ph, xDomain: xDom, yDomain: LinearScale.extent(ys))
            var label = describe[t] ?? t
            if t == "val", let valMetric { label += " (\(valMetric))" }
            panel.drawAxes(&svg, title: "\(t): \(label)", xLabel: "epoch", yLabel: t)
            if let e = selEpoch { svg.line(panel.sx(e), py, panel.sx(e), py + ph, stroke: Palette.highlight, width: 1.2, dash: "5 3") }
            let pts = zip(epochs, ys).filter { $0.1.isFinite }.map { (panel.sx($0.0), panel.sy($0.1)) }
            let colour = Palette.color(t == "val" ? 1 : 0)
            if pts.count == 1 { svg.circle(pts[0].0, pts[0].1, r: 3, fill: colour) } else { svg.polyline(pts, stroke: colour) }
        }
        legend.draw(&svg, x: m.left, y: Double(rowsN) * cellH)
        return svg
    }

    public static func make(models: [(name: String, file: ModelFile)]) -> ReportSection {
        var body = ""
        for (name, f) in models {
            body += HTML.heading(name)
            if let svg = figure(name: name, meta: f.meta) {
                let sel = f.meta["selected"] as? [String: Any]
                let selText = (sel?["by"] as? String) == "val"
                    ? "weights of the epoch with the lowest validation loss (\(sel?["epoch"] ?? "?"))"
                    : "weights of the last epoch (\(sel?["epoch"] ?? "?"); no validation cells to select on)"
                body += HTML.figure(svg, caption: "\(name) (\(f.kind)): \((f.meta["history"] as? [Any])?.count ?? 0) epochs; the model file holds the \(selText).")
            } else {
                body += HTML.note("\(name) (kind \(f.kind)) has no training history: baselines are fitted in closed form.")
            }
        }
        if models.isEmpty { body += HTML.note("No --model given.") }
        let how = """
            Each panel is one term of the training objective per epoch (mean over the epoch's batches; they have their \
            own scales, so each has its own y axis). The total loss and the reconstruction errors should fall and level \
            off; KL terms rise as the latents start to carry information (a KL near 0 means a latent collapsed). The \
            validation loss is computed on held-out cells of seen conditions, never on test conditions; the dashed line \
            marks the epoch whose weights were kept. Validation rising while training loss falls is overfitting.
            """
        return ReportSection(id: "training", title: "Training curves", howToRead: how, body: body)
    }
}
