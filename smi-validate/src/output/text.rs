use super::RenderOptions;
use crate::{Report, Severity};
use std::fmt::Write;

fn paint(on: bool, code: &str, s: &str) -> String {
    if on {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

/// Renders rustc-style text:
///
/// ```text
/// error[SMI1201]: expected integer, found string "5"
///  --> split.yaml:9:5 (document 0, spec.backends[0].weight)
///   |
/// 9 |     weight: "5"
///   |     ^^^^^^
///   = hint: write a plain number without quotes or unit suffix
/// ```
pub fn render_text(report: &Report, opts: RenderOptions) -> String {
    let c = opts.color;
    let mut s = String::new();
    for d in &report.diagnostics {
        let (sev, col) = match d.severity {
            Severity::Error => ("error", "1;31"),
            Severity::Warning => ("warning", "1;33"),
        };
        let _ = writeln!(
            s,
            "{}{}",
            paint(c, col, &format!("{sev}[{}]", d.code)),
            paint(c, "1", &format!(": {}", d.message))
        );
        let mut ctx = Vec::new();
        if let Some(doc) = d.document {
            ctx.push(format!("document {doc}"));
        }
        if let Some(p) = &d.path {
            ctx.push(p.clone());
        }
        if let Some(o) = &d.object {
            ctx.push(o.clone());
        }
        let ctx = if ctx.is_empty() {
            String::new()
        } else {
            format!(" ({})", ctx.join(", "))
        };
        let width = d.line.map_or(1, |l| l.to_string().len());
        let pad = " ".repeat(width);
        let _ = writeln!(s, "{pad}{} {}{ctx}", paint(c, "1;34", "-->"), d.location());
        if let (Some(line), Some(col0), Some(src)) = (d.line, d.column, &d.source_line) {
            let bar = paint(c, "1;34", "|");
            let _ = writeln!(s, "{pad} {bar}");
            let _ = writeln!(s, "{} {bar} {src}", paint(c, "1;34", &line.to_string()));
            let start: String = src
                .chars()
                .take(col0.saturating_sub(1))
                .map(|ch| if ch == '\t' { '\t' } else { ' ' })
                .collect();
            let rest: Vec<char> = src.chars().skip(col0.saturating_sub(1)).collect();
            let mut n = rest
                .iter()
                .take_while(|ch| !ch.is_whitespace() && **ch != ':' && **ch != ',')
                .count();
            if rest.first() == Some(&'-') || n == 0 {
                n = 1;
            }
            let _ = writeln!(s, "{pad} {bar} {start}{}", paint(c, col, &"^".repeat(n)));
        }
        if let Some(h) = &d.hint {
            let _ = writeln!(s, "{pad} {} hint: {h}", paint(c, "1;34", "="));
        }
        s.push('\n');
    }
    let m = &report.summary;
    if m.cross_object_skipped {
        // always said, summary or not: no finding of those rules must not read as "clean"
        let _ = writeln!(
            s,
            "{}: cross-object rules (SMI1401–SMI1407) skipped: references, duplicates and namespaces across objects are not checked",
            paint(c, "1", "note")
        );
    }
    if opts.summary {
        let _ = writeln!(
            s,
            "Summary: {} file(s), {} document(s), {} SMI object(s), {} skipped; {} error(s), {} warning(s){}",
            m.files,
            m.documents,
            m.smi_objects,
            m.skipped,
            m.errors,
            m.warnings,
            if m.cross_object_skipped {
                "; cross-object rules skipped"
            } else {
                ""
            }
        );
    }
    s
}
