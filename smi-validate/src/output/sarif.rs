use crate::{Code, Report, Severity};
use serde_json::{Value, json};

/// SARIF 2.1.0: one run, every [`Code`] as a rule, one result per diagnostic.
pub(crate) fn render(report: &Report) -> String {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": c.title(),
                "shortDescription": {"text": c.title()},
                "defaultConfiguration": {"level": level(c.default_severity())},
                "properties": {"layer": c.layer()},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(p) = &d.path {
                text = format!("{p}: {text}");
            }
            if let Some(h) = &d.hint {
                text = format!("{text} (hint: {h})");
            }
            let mut region = serde_json::Map::new();
            if let Some(l) = d.line {
                region.insert("startLine".into(), l.into());
            }
            if let Some(c) = d.column {
                region.insert("startColumn".into(), c.into());
            }
            let mut phys = json!({"artifactLocation": {"uri": uri(&d.file)}});
            if !region.is_empty() {
                phys["region"] = Value::Object(region);
            }
            json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0),
                "level": level(d.severity),
                "message": {"text": text},
                "locations": [{"physicalLocation": phys}],
            })
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "smi-validate",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/smi-rs/smi-rs",
            "rules": rules,
        }},
        "results": results,
    });
    if report.summary.cross_object_skipped {
        run["invocations"] = json!([{
            "executionSuccessful": true,
            "toolConfigurationNotifications": [{
                "level": "note",
                "message": {"text": "cross-object rules (SMI1401–SMI1407) skipped: references, duplicates and namespaces across objects are not checked"},
            }],
        }]);
    }
    let v = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn uri(file: &str) -> String {
    // relative URI reference; percent-encode what a URI cannot hold
    let mut o = String::new();
    for b in file.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                o.push(b as char)
            }
            _ => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}
