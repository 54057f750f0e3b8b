//! Report renderers: `text` (rustc style), `json` (stable schema, see `CODES.md`), `junit`,
//! `sarif` (2.1.0) and `tap` (13).

mod junit;
mod sarif;
mod tap;
mod text;

use crate::{Diagnostic, Report};
use std::str::FromStr;

pub use text::render_text;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// rustc-style text.
    Text,
    /// JSON, schema version 1.
    Json,
    /// JUnit XML.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
    /// Test Anything Protocol 13.
    Tap,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "text" => Format::Text,
            "json" => Format::Json,
            "junit" => Format::Junit,
            "sarif" => Format::Sarif,
            "tap" => Format::Tap,
            _ => {
                return Err(format!(
                    "unknown output format `{s}` (text, json, junit, sarif, tap)"
                ));
            }
        })
    }
}

/// Rendering options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderOptions {
    /// ANSI colours (text only).
    pub color: bool,
    /// Append the summary (text only; the other formats always carry it).
    pub summary: bool,
}

/// Renders a report.
pub fn render(report: &Report, format: Format, opts: RenderOptions) -> String {
    match format {
        Format::Text => render_text(report, opts),
        Format::Json => render_json(report),
        Format::Junit => junit::render(report),
        Format::Sarif => sarif::render(report),
        Format::Tap => tap::render(report),
    }
}

/// The JSON output (schema version 1):
///
/// ```json
/// {"version": 1, "valid": false,
///  "summary": {"files": 1, "documents": 2, "smiObjects": 1, "skipped": 1, "errors": 1, "warnings": 0},
///  "diagnostics": [{"severity": "error", "code": "SMI1201", "message": "…", "file": "a.yaml",
///                   "document": 0, "line": 9, "column": 5, "path": "spec.backends[0].weight",
///                   "hint": "…", "object": "TrafficSplit/web"}]}
/// ```
/// `document`, `line`, `column`, `path`, `hint`, `object` are omitted when unknown.
/// `summary.crossObjectSkipped: true` is there only when the cross-object rules were not run
/// ([`crate::Options::skip_cross`]).
pub fn render_json(report: &Report) -> String {
    let v = serde_json::json!({
        "version": 1,
        "valid": report.is_valid(),
        "summary": report.summary,
        "diagnostics": report.diagnostics,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// One test case for JUnit/TAP: an SMI object or a document/file with findings.
pub(crate) struct Case<'r> {
    pub file: &'r str,
    pub name: String,
    pub diagnostics: Vec<&'r Diagnostic>,
}

pub(crate) fn cases(report: &Report) -> Vec<Case<'_>> {
    let mut out: Vec<Case<'_>> = Vec::new();
    let mut used = vec![false; report.diagnostics.len()];
    for f in &report.files {
        for (id, doc) in &f.objects {
            let diagnostics: Vec<&Diagnostic> = report
                .diagnostics
                .iter()
                .enumerate()
                .filter(|(_, d)| d.file == f.name && d.document == Some(*doc))
                .map(|(i, d)| {
                    used[i] = true;
                    d
                })
                .collect();
            out.push(Case {
                file: &f.name,
                name: format!("{id} (document {doc})"),
                diagnostics,
            });
        }
    }
    for (i, d) in report.diagnostics.iter().enumerate() {
        if used[i] {
            continue;
        }
        let name = match d.document {
            Some(doc) => format!("document {doc}"),
            None => "file".to_owned(),
        };
        if let Some(c) = out.iter_mut().find(|c| c.file == d.file && c.name == name) {
            c.diagnostics.push(d);
        } else {
            out.push(Case {
                file: &d.file,
                name,
                diagnostics: vec![d],
            });
        }
    }
    out
}
