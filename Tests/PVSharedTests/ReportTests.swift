import Foundation
import XCTest
import PVShared
#if canImport(FoundationXML)
import FoundationXML
#endif

/// pv-report: the figure primitives (ticks, scales, escaping), the numbers behind the scatters against values worked
/// out by hand, scores.json read generically (old and new layouts), and the whole report from a small pipeline run:
/// a strict XML parse of the page and of every SVG, every section present, and (when Chromium is installed) a
/// headless render to PNG that is not blank.
final class ReportTests: XCTestCase {
    // MARK: primitives

    func testTicksAreRoundAndCoverTheInterval() {
        let unit = Ticks.values(0, 1)
        XCTAssertEqual(unit.count, 6)
        for (i, v) in unit.enumerated() { XCTAssertEqual(v, Double(i) * 0.2, accuracy: 1e-12) }
        let t = Ticks.values(-0.37, 2.1)
        XCTAssertEqual(t.count, 5)
        XCTAssertEqual(t.first!, 0, accuracy: 1e-12)   // step 2.47 / 4 -> 0.5: -0.37 rounds up to 0
        XCTAssertEqual(t.last!, 2, accuracy: 1e-12)
        XCTAssertEqual(Ticks.step(-0.37, 2.1), 0.5)
        XCTAssertEqual(Ticks.step(0, 1000), 200)
        XCTAssertEqual(Ticks.label(0.4, step: 0.2), "0.4")
        XCTAssertEqual(Ticks.label(-3, step: 1), "-3")
        XCTAssertEqual(Ticks.label(0.05, step: 0.05), "0.05")
    }

    func testScalesMapEndsAndFlipY() {
        let p = Panel(x: 10, y: 20, w: 100, h: 50, xDomain: (-1, 1), yDomain: (0, 5))
        XCTAssertEqual(p.sx(-1), 10); XCTAssertEqual(p.sx(1), 110); XCTAssertEqual(p.sx(0), 60)
        XCTAssertEqual(p.sy(0), 70); XCTAssertEqual(p.sy(5), 20)
        let e = LinearScale.extent([1, 3, .nan], pad: 0.5)
        XCTAssertEqual(e.0, 0); XCTAssertEqual(e.1, 4)
        XCTAssertEqual(LinearScale.extent([2, 3], pad: 0, includeZero: true).0, 0)
    }

    func testEscapingKeepsSVGWellFormed() throws {
        XCTAssertEqual(xmlEscape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;")
        var svg = SVG(width: 100, height: 50, title: "T<1> & co")
        svg.text("x < y & z", 1, 2)
        svg.circle(1, 2, r: 3, fill: "#000", tooltip: "gene \"A&B\"")
        try assertWellFormed(svg.render(), "svg")
    }

    // MARK: numbers behind the scatters

    /// 2 genes. Control cells (1,1) and (3,3): mean (2,2). Single A (4,2): change (2,0); single B (2,5): change (0,3).
    /// Held-out A+B cells (5,6) and (7,6): mean (6,6), change (4,4); interaction (4,4) − (2,3) = (2,1).
    /// Predicted A+B cells (3,3) and (3,5): change (1,2); the train-set A+B cell (100,100) is not the truth.
    func testChangesAndInteractionMatchHandComputedValues() throws {
        let d = TestSupport.tempDir("report-data")
        defer { try? FileManager.default.removeItem(at: d) }
        let expr: [Float] = [1, 1, 3, 3, 4, 2, 2, 5, 5, 6, 7, 6, 100, 100]
        try writeNPY(d.path + "/expr.npy", expr, shape: [7, 2])
        try "symbol\nG1\nG2\n".write(toFile: d.path + "/genes.tsv", atomically: true, encoding: .utf8)
        let split = SplitTable(barcodes: (0..<7).map { "c\($0)" }, labels: ["ctrl", "ctrl", "A", "B", "A+B", "A+B", "A+B"],
                               conditions: ["ctrl", "ctrl", "A", "B", "A+B", "A+B", "A+B"],
                               sets: ["train", "train", "train", "train", "test", "test", "train"],
                               groups: ["control", "control", "single", "single", "double", "double", "double"])
        try split.write(d.path + "/split.tsv")
        try FileManager.default.createDirectory(atPath: d.path + "/pred", withIntermediateDirectories: true)
        try writeNPY(d.path + "/pred/pred.npy", [3, 3, 3, 5] as [Float], shape: [2, 2])
        try "row\tcondition\tcontrol_barcode\n0\tA+B\tc0\n1\tA+B\tc1\n".write(toFile: d.path + "/pred/pred.tsv", atomically: true, encoding: .utf8)

        let data = try ChangeData(exprPath: d.path + "/expr.npy", splitPath: d.path + "/split.tsv", genesPath: nil,
                                  predictions: [("m", d.path + "/pred")], set: "test", deGenes: ["A+B": ["G2"]])
        XCTAssertEqual(data.genes, ["G1", "G2"])
        XCTAssertEqual(data.doubles.count, 1)
        let ab = data.doubles[0]
        XCTAssertEqual(ab.condition, "A+B")
        XCTAssertEqual(ab.trueChange, [4, 4])
        XCTAssertEqual(ab.additiveTruth, [2, 3])
        XCTAssertEqual(ab.predicted["m"], [1, 2])
        XCTAssertEqual(ab.deGenes, [1])
    }

    // MARK: scores.json, old and new layouts

    func testScoresOfEitherLayoutRenderWithBestCeilingAndExtraTables() throws {
        let old = """
            {"set":"test","metrics":[{"name":"mse","better":"lower"},{"name":"pearson_delta","better":"higher"}],
             "predictions":[{"name":"pvae","groups":{"double":{"n_conditions":2,"metrics":{"mse":0.5,"pearson_delta":0.9}}},"conditions":[]},
                            {"name":"additive","groups":{"double":{"n_conditions":2,"metrics":{"mse":0.25,"pearson_delta":null}}},"conditions":[]}],
             "de_genes":{"A+B":["G2"]}}
            """
        let d1 = try ScoresDocument(data: Data(old.utf8), name: "old.json")
        XCTAssertEqual(d1.predictors.map(\.name), ["pvae", "additive"])
        XCTAssertEqual(d1.deGenes["A+B"], ["G2"])
        let s1 = ScoreTableSection.make(d1, reference: "additive").body
        try assertWellFormed("<div>" + s1 + "</div>", "old table")
        // mse: additive (0.25, lower is better) is best; pearson_delta: pvae is the only value, nothing to beat.
        XCTAssertTrue(s1.contains("<td class=\"best ref\">0.2500</td>"), s1)
        XCTAssertTrue(s1.contains("<td>0.9000</td>"), s1)
        XCTAssertTrue(s1.contains("<td class=\"ref\">–</td>"), "a null metric shows as missing")

        // pv-score with replicates, the ceiling pseudo-predictor and the paired comparison with additive.
        let new = """
            {"set":"test","control_set":"all","reference":"additive",
             "metrics":[{"name":"mse","better":"lower"},{"name":"interaction_r2","better":"higher"}],
             "predictions":[
              {"name":"pvae","replicates":3,"groups":{"double":{"n_conditions":2,"metrics":{"mse":0.5,"interaction_r2":0.2},
               "sd":{"mse":0.1,"interaction_r2":null},"calibrated":{"mse":0.4},"replicates":[]}},"conditions":[]},
              {"name":"additive","replicates":1,"groups":{"double":{"n_conditions":2,"metrics":{"mse":0.3,"interaction_r2":0.0},
               "sd":{"mse":null,"interaction_r2":null},"calibrated":{"mse":0.7}}},"conditions":[]},
              {"name":"ceiling","replicates":1,"groups":{"double":{"n_conditions":2,"metrics":{"mse":0.01,"interaction_r2":0.95},
               "sd":{},"calibrated":{"mse":1.0}}},"conditions":[]}],
             "paired":[{"prediction":"pvae","group":"double","metric":"mse","n_conditions":2,"win_rate":0.5,
                        "mean_difference":0.2,"ci95":[0.1,0.3]},
                       {"prediction":"pvae","group":"double","metric":"interaction_r2","n_conditions":2,"win_rate":1,
                        "mean_difference":0.2,"ci95":[-0.1,0.5]}],
             "future_entry":{"a":1}}
            """
        let d2 = try ScoresDocument(data: Data(new.utf8), name: "new.json")
        XCTAssertEqual(d2.reference, "additive")
        XCTAssertEqual(d2.predictors.map(\.replicates), [3, 1, 1])
        let s2 = ScoreTableSection.make(d2, reference: "additive").body
        try assertWellFormed("<div>" + s2 + "</div>", "new table")
        XCTAssertTrue(s2.contains("<th>pvae (3 seeds)</th>"), "replicates in the header")
        XCTAssertTrue(s2.contains("<td>0.5000 ± 0.1000</td>"), "mean ± sd over seeds")
        // mse: the ceiling's 0.01 is lowest but never best; additive's 0.3 is.
        XCTAssertTrue(s2.contains("<td class=\"best ref\">0.3000</td>"), s2)
        XCTAssertTrue(s2.contains("<td>0.0100</td>"), "ceiling shown, not best")
        XCTAssertTrue(s2.contains(">cal_mse</td>"), "calibrated rows")
        // Paired: mse difference +0.2 [0.1, 0.3] is reliably worse (lower is better); interaction_r2's interval spans 0.
        XCTAssertTrue(s2.contains("<td class=\"worse\">+0.2000<br/><span class=\"ci\">[0.1000, 0.3000]</span><br/><span class=\"ci\">wins 50%</span></td>"), s2)
        XCTAssertTrue(s2.contains("<td>+0.2000<br/><span class=\"ci\">[-0.1000, 0.5000]</span><br/><span class=\"ci\">wins 100%</span></td>"), s2)
        XCTAssertTrue(s2.contains("<h3>future entry</h3>"), "unknown entries become tables")
        XCTAssertFalse(s2.contains("No predictor named"))
        XCTAssertTrue(s1.contains("no paired comparison"), "the old layout says it has none")
    }

    func testNotScoresIsBadInput() {
        XCTAssertThrowsError(try ScoresDocument(data: Data("[1]".utf8), name: "x.json")) {
            XCTAssertEqual(($0 as? PVError)?.exitCode, 65)
        }
        XCTAssertThrowsError(try ScoresDocument(data: Data("{\"set\":\"test\"}".utf8), name: "x.json")) {
            XCTAssertEqual(($0 as? PVError)?.description, "x.json: no 'predictions' array: not pv-score --json output")
        }
    }

    // MARK: the whole report

    /// A small run: pvae (short training with validation) and the additive baseline, predicted and scored.
    nonisolated(unsafe) static var run: URL?
    override class func tearDown() {
        if let d = run { try? FileManager.default.removeItem(at: d) }
        run = nil
    }

    private func ok(_ tool: String, _ args: [String], cwd: URL) throws {
        let r = try TestSupport.run(tool, ["--quiet"] + args, cwd: cwd)
        XCTAssertEqual(r.status, 0, "\(tool) \(args.joined(separator: " ")): \(r.stderr)")
        if r.status != 0 { throw XCTSkip("stopping: \(tool) failed") }
    }

    private func smallRun() throws -> URL {
        if let d = ReportTests.run { return d }
        let d = TestSupport.tempDir("report")
        try ok("pv-simulate", ["--cells-per-condition", "40", "--genes", "100", "--targets", "6", "--doubles", "3",
                               "--latent-resp", "4", "--seed", "2", "--out", "screen"], cwd: d)
        try ok("pv-normalize", ["--n-top-genes", "60", "--labels", "screen/cells.tsv", "--out", "norm", "screen"], cwd: d)
        try ok("pv-split", ["--holdout-singles", "2", "--holdout-cells", "16", "--seed", "1", "--out", "split.tsv", "norm/obs.tsv"], cwd: d)
        try ok("pv-train", ["--steps", "60", "--batch", "32", "--hidden", "16", "--latent-resp", "4", "--out", "model.npz",
                            "norm/expr.npy", "split.tsv"], cwd: d)
        try ok("pv-train", ["--model", "additive", "--out", "additive.npz", "norm/expr.npy", "split.tsv"], cwd: d)
        try ok("pv-predict", ["--out", "pred-pvae", "model.npz", "norm/expr.npy", "split.tsv"], cwd: d)
        try ok("pv-predict", ["--out", "pred-additive", "additive.npz", "norm/expr.npy", "split.tsv"], cwd: d)
        try ok("pv-score", ["--json", "scores.json", "--out", "scores.tsv", "--pred", "pvae=pred-pvae/pred.npy",
                            "--pred", "additive=pred-additive/pred.npy", "norm/expr.npy", "split.tsv"], cwd: d)
        ReportTests.run = d
        return d
    }

    private func report(_ d: URL) throws -> String {
        let r = try TestSupport.run("pv-report", ["--quiet", "--out", "report.html", "--model", "pvae=model.npz",
                                                  "--model", "additive=additive.npz", "--pred", "pvae=pred-pvae",
                                                  "--pred", "additive=pred-additive/pred.npy",
                                                  "scores.json", "norm/expr.npy", "split.tsv"], cwd: d)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try String(contentsOf: d.appendingPathComponent("report.html"), encoding: .utf8)
    }

    func testReportParsesAndHasEverySection() throws {
        let d = try smallRun()
        let html = try report(d)
        try assertWellFormed(html, "report.html")
        let svgs = svgElements(html)
        for (i, s) in svgs.enumerated() { try assertWellFormed(s, "svg \(i + 1)") }
        for id in ["scores", "changes", "interactions", "training", "graph"] {
            XCTAssertTrue(html.contains("<section id=\"\(id)\">"), "section \(id)")
        }
        XCTAssertEqual(html.components(separatedBy: "How to read this.").count - 1, 5, "a reading guide per section")
        XCTAssertFalse(html.lowercased().contains("<script"), "no JavaScript")
        XCTAssertFalse(html.contains("src=\"http") || html.contains("href=\"http"), "nothing from the network")
        // Figures: per held-out double one change and one interaction figure; one training-curve figure (the
        // additive baseline has no history), one graph and one programme heatmap.
        let split = try SplitTable(path: d.path + "/split.tsv")
        let doubles = Set(split.rows(set: "test").map { split.conditions[$0] }.filter { Condition.genes($0).count == 2 })
        XCTAssertGreaterThan(doubles.count, 0)
        for c in doubles {
            XCTAssertTrue(html.contains("<title>Predicted vs true change, \(c)</title>"), c)
            XCTAssertTrue(html.contains("<title>Predicted vs true interaction, \(c)</title>"), c)
        }
        XCTAssertEqual(svgs.count, 2 * doubles.count + 3)
        XCTAssertTrue(html.contains("additive (kind additive) has no training history"))
        // Training curves: one panel per term of the history, and the kept epoch marked.
        let meta = try ModelFile(path: d.path + "/model.npz").meta
        let history = meta["history"] as! [[String: Any]]
        let terms = Set(history.flatMap { $0.keys }).subtracting(["epoch", "step"])
        let curves = svgs.first { $0.contains("<title>Training curves of pvae</title>") }!
        for t in terms { XCTAssertTrue(curves.contains(">\(t): "), "panel for \(t)") }
        let sel = (meta["selected"] as! [String: Any])["epoch"] as! Int
        XCTAssertTrue(curves.contains("kept weights: epoch \(sel)"))
        // The graph draws exactly pv-predict --graph's control edges at the same threshold.
        let g = try TestSupport.run("pv-predict", ["--quiet", "--graph", "graph.tsv", "--edge-threshold", "0.05", "--out", "pg",
                                                   "model.npz", "norm/expr.npy", "split.tsv"], cwd: d)
        XCTAssertEqual(g.status, 0, g.stderr)
        let edges = try TSVTable(path: d.path + "/graph.tsv").rows.filter { $0[0] == "edge" && $0[1] == "ctrl" }.count
        let r = try TestSupport.run("pv-report", ["--quiet", "--out", "-", "--edge-threshold", "0.05", "--model", "pvae=model.npz", "scores.json"], cwd: d)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains(">\(edges) edge\(edges == 1 ? "" : "s")</text>"), "edge count \(edges)")
        XCTAssertEqual(r.stdout.components(separatedBy: "<polygon").count - 1, edges, "one arrowhead per edge")
        XCTAssertFalse(r.stdout.contains("<section id=\"changes\">"), "no scatters without the truth")
    }

    /// Headless Chromium renders the page to a PNG that is not blank (Tests/interop/render_report.sh).
    func testReportRendersInChromium() throws {
        guard let chromium = ["chromium", "chromium-browser", "google-chrome"].first(where: { which($0) != nil }) else {
            throw XCTSkip("chromium not installed (make interop-deps installs it as root); pv-report's render not checked")
        }
        let d = try smallRun()
        _ = try report(d)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [TestSupport.repoRoot.appendingPathComponent("Tests/interop/render_report.sh").path,
                       d.path + "/report.html", d.path + "/report.png"]
        p.environment = ProcessInfo.processInfo.environment.merging(["CHROMIUM": chromium]) { $1 }
        let pipe = Pipe(); p.standardOutput = pipe; p.standardError = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, out)
        print(out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func testBadInputs() throws {
        let d = TestSupport.tempDir("report-bad")
        defer { try? FileManager.default.removeItem(at: d) }
        try "{\"predictions\": 3}".write(toFile: d.path + "/bad.json", atomically: true, encoding: .utf8)
        let cases: [([String], Int32, String)] = [
            (["--out", "r.html", "--pred", "a=x", "bad.json"], 64, "pv-report: --pred needs the truth"),
            (["--out", "r.html", "--pred", "=x", "bad.json", "e.npy", "s.tsv"], 64, "pv-report: --pred expects NAME=PRED_DIR"),
            (["--out", "r.html", "bad.json", "e.npy"], 64, "pv-report: expected scores.json, or"),
            (["--out", "r.html", "missing.json"], 66, "pv-report: missing.json:"),
            (["--out", "r.html", "bad.json"], 65, "pv-report: bad.json: no 'predictions' array"),
            (["--out", "r.html", "--edge-threshold", "-1", "bad.json"], 64, "pv-report: --edge-threshold must be at least 0"),
        ]
        for (args, status, prefix) in cases {
            let r = try TestSupport.run("pv-report", args, cwd: d)
            XCTAssertEqual(r.status, status, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix(prefix), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)")
        }
        XCTAssertEqual(TestSupport.files(in: d), ["bad.json"], "no report written")
    }

    // MARK: helpers

    /// The path of an executable on $PATH, or nil.
    private func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Every `<svg ...>...</svg>` of a page (SVGs are not nested in the report).
    private func svgElements(_ html: String) -> [String] {
        var out: [String] = []
        var rest = html[...]
        while let a = rest.range(of: "<svg "), let b = rest.range(of: "</svg>", range: a.upperBound..<rest.endIndex) {
            out.append(String(rest[a.lowerBound..<b.upperBound]))
            rest = rest[b.upperBound...]
        }
        return out
    }

    /// A strict XML parse (Foundation's XMLParser); fails with the parser's error and line.
    private func assertWellFormed(_ xml: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        // The HTML5 doctype has no DTD; XMLParser accepts it, but drop it to parse the element tree alone.
        let body = xml.hasPrefix("<!DOCTYPE html>") ? String(xml.dropFirst("<!DOCTYPE html>".count)) : xml
        let p = XMLParser(data: Data(body.utf8))
        let ok = p.parse()
        XCTAssertTrue(ok, "\(what) is not well-formed XML: \(p.parserError.map { "\($0)" } ?? "?") at line \(p.lineNumber), column \(p.columnNumber)", file: file, line: line)
    }
}
