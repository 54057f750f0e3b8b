use super::cases;
use crate::{Report, Severity};
use std::fmt::Write;

pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: one `<testsuite>` per file, one `<testcase>` per SMI object (or per document/file
/// with findings); errors are `<failure>`s, warnings go to `<system-out>`.
pub(crate) fn render(report: &Report) -> String {
    let cs = cases(report);
    let mut files: Vec<&str> = report.files.iter().map(|f| f.name.as_str()).collect();
    for c in &cs {
        if !files.contains(&c.file) {
            files.push(c.file);
        }
    }
    let total = cs.len();
    let failures = cs
        .iter()
        .filter(|c| c.diagnostics.iter().any(|d| d.severity == Severity::Error))
        .count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"smi-validate\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\">"
    );
    for f in files {
        let fc: Vec<_> = cs.iter().filter(|c| c.file == f).collect();
        let ff = fc
            .iter()
            .filter(|c| c.diagnostics.iter().any(|d| d.severity == Severity::Error))
            .count();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{ff}\" errors=\"0\" skipped=\"0\">",
            esc(f),
            fc.len()
        );
        if report.summary.cross_object_skipped {
            s.push_str("    <properties>\n      <property name=\"crossObjectSkipped\" value=\"true\"/>\n    </properties>\n");
        }
        for c in fc {
            let _ = write!(
                s,
                "    <testcase classname=\"{}\" name=\"{}\"",
                esc(f),
                esc(&c.name)
            );
            if c.diagnostics.is_empty() {
                s.push_str("/>\n");
                continue;
            }
            s.push_str(">\n");
            for d in c
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
            {
                let _ = writeln!(
                    s,
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                    esc(&d.message),
                    d.code,
                    esc(&d.to_string())
                );
            }
            let warnings: Vec<String> = c
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .map(|d| d.to_string())
                .collect();
            if !warnings.is_empty() {
                let _ = writeln!(
                    s,
                    "      <system-out>{}</system-out>",
                    esc(&warnings.join("\n"))
                );
            }
            s.push_str("    </testcase>\n");
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}
