import Foundation

/// One section of the report: an anchor id, a heading, a "how to read this" paragraph and its body (HTML with
/// inline SVG figures).
public struct ReportSection {
    public var id: String
    public var title: String
    public var howToRead: String
    public var body: String
    public init(id: String, title: String, howToRead: String, body: String) {
        self.id = id; self.title = title; self.howToRead = howToRead; self.body = body
    }
}

/// The report as one self-contained HTML file: inline CSS and SVG, no script, no external resource. It is written
/// as well-formed XHTML syntax, so a strict XML parser can check every figure.
public struct HTMLReport {
    public var title: String
    /// Lines under the title (inputs, versions).
    public var facts: [String] = []
    public var sections: [ReportSection] = []
    public init(title: String) { self.title = title }

    static let css = """
        body{font-family:Helvetica,Arial,sans-serif;color:#222;max-width:1500px;margin:24px auto;padding:0 16px;line-height:1.45}
        h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;margin-top:36px;border-bottom:1px solid #ccc;padding-bottom:4px}
        h3{font-size:15px;margin:18px 0 6px}p.facts{color:#555;font-size:13px;margin:2px 0}
        p.how{background:#f4f6f8;border-left:4px solid #0072B2;padding:8px 12px;font-size:14px}
        table{border-collapse:collapse;font-size:13px;margin:8px 0 16px}th,td{padding:3px 9px;text-align:right;border-bottom:1px solid #e3e3e3}
        th{background:#f4f6f8}td.l,th.l{text-align:left}td.best{font-weight:bold;background:#e8f4ea}
        td.ref{background:#f1f1f1}td.worse{background:#fbe3df}span.ci{color:#666;font-size:11px}nav a{margin-right:14px;font-size:14px}
        figure{display:inline-block;vertical-align:top;margin:8px 24px 20px 0;max-width:100%;overflow-x:auto}div.group{display:inline-block;vertical-align:top;margin-right:28px}figcaption{font-size:12px;color:#555}p.note{color:#8a5a00;font-size:13px}
        """

    /// The whole document.
    public func render() -> String {
        var s = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/>"
        s += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"
        s += "<title>\(xmlEscape(title))</title><style>\(HTMLReport.css)</style></head><body>\n"
        s += "<h1>\(xmlEscape(title))</h1>\n"
        for f in facts { s += "<p class=\"facts\">\(xmlEscape(f))</p>\n" }
        s += "<nav>" + sections.map { "<a href=\"#\(xmlEscape($0.id))\">\(xmlEscape($0.title))</a>" }.joined() + "</nav>\n"
        for sec in sections {
            s += "<section id=\"\(xmlEscape(sec.id))\"><h2>\(xmlEscape(sec.title))</h2>\n"
            s += "<p class=\"how\"><b>How to read this.</b> \(xmlEscape(sec.howToRead))</p>\n"
            s += sec.body + "\n</section>\n"
        }
        s += "</body></html>\n"
        return s
    }
}

/// Small HTML builders shared by the sections.
public enum HTML {
    /// A table: header cells, then rows of (text, CSS class) cells; the first column is left-aligned.
    public static func table(header: [String], rows: [[(String, String)]]) -> String {
        var s = "<table><thead><tr>"
        for (i, h) in header.enumerated() { s += i == 0 ? "<th class=\"l\">\(xmlEscape(h))</th>" : "<th>\(xmlEscape(h))</th>" }
        s += "</tr></thead><tbody>"
        for r in rows {
            s += "<tr>"
            for (i, c) in r.enumerated() {
                let cls = [i == 0 ? "l" : "", c.1].filter { !$0.isEmpty }.joined(separator: " ")
                s += cls.isEmpty ? "<td>\(c.0)</td>" : "<td class=\"\(cls)\">\(c.0)</td>"
            }
            s += "</tr>"
        }
        return s + "</tbody></table>"
    }

    /// A figure: an optional heading, the SVG and a caption. Figures flow side by side where the page is wide enough.
    public static func figure(_ svg: SVG, heading: String? = nil, caption: String) -> String {
        "<figure>" + (heading.map { "<h3>\(xmlEscape($0))</h3>" } ?? "") + svg.render()
            + "<figcaption>\(xmlEscape(caption))</figcaption></figure>"
    }

    public static func note(_ text: String) -> String { "<p class=\"note\">\(xmlEscape(text))</p>" }
    public static func paragraph(_ text: String) -> String { "<p>\(xmlEscape(text))</p>" }
    public static func heading(_ text: String) -> String { "<h3>\(xmlEscape(text))</h3>" }
}
