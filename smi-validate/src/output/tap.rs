use super::cases;
use crate::{Report, Severity};
use std::fmt::Write;

/// TAP 13: one test point per SMI object (or document/file with findings); failures carry a
/// YAML diagnostic block.
pub(crate) fn render(report: &Report) -> String {
    let cs = cases(report);
    let mut s = format!("TAP version 13\n1..{}\n", cs.len());
    if report.summary.cross_object_skipped {
        s.push_str("# cross-object rules (SMI1401–SMI1407) skipped\n");
    }
    for (i, c) in cs.iter().enumerate() {
        let failed = c.diagnostics.iter().any(|d| d.severity == Severity::Error);
        let _ = writeln!(
            s,
            "{} {} - {} {}",
            if failed { "not ok" } else { "ok" },
            i + 1,
            c.file,
            c.name
        );
        if !c.diagnostics.is_empty() {
            s.push_str("  ---\n  diagnostics:\n");
            for d in &c.diagnostics {
                let _ = writeln!(s, "    - severity: {}", d.severity);
                let _ = writeln!(s, "      code: {}", d.code);
                let _ = writeln!(
                    s,
                    "      message: {}",
                    serde_json::Value::from(d.message.as_str())
                );
                let _ = writeln!(s, "      at: {}", serde_json::Value::from(d.location()));
                if let Some(p) = &d.path {
                    let _ = writeln!(s, "      path: {}", serde_json::Value::from(p.as_str()));
                }
            }
            s.push_str("  ...\n");
        }
    }
    s
}
