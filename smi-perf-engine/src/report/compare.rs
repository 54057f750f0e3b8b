//! Comparing two results (without and with a mesh): the text table, the warnings, the HTML
//! page.

use super::chart::*;
use super::html::{STYLE, decoded, latency_marks, metadata_table};
use super::*;

/// Why two results may not be comparable: they differ in requested rate, load model, protocol,
/// or error rate (by more than one percentage point), or their achieved rates differ by more
/// than 5 %. Empty when they look like the same load.
///
/// ```
/// use smi_types::perf::{LoadModel, PerformanceTestResult, ResultRecord};
/// let mut a = ResultRecord::default();
/// a.requested.rps = 1000;
/// let mut b = a.clone();
/// b.requested.rps = 2000;
/// b.requested.load_model = LoadModel::Open;
/// let w = smi_perf_engine::report::compare_warnings(
///     &PerformanceTestResult::new("a", a),
///     &PerformanceTestResult::new("b", b),
/// );
/// assert_eq!(w.len(), 2);
/// ```
pub fn compare_warnings(base: &PerformanceTestResult, mesh: &PerformanceTestResult) -> Vec<String> {
    let (b, m) = (&base.record, &mesh.record);
    let mut w = Vec::new();
    if b.requested.rps != m.requested.rps {
        w.push(format!(
            "requested rate differs: base {} rps, mesh {} rps (compare the same load)",
            b.requested.rps, m.requested.rps
        ));
    }
    if b.requested.load_model != m.requested.load_model {
        w.push(format!(
            "load model differs: base {}, mesh {}",
            b.requested.load_model, m.requested.load_model
        ));
    }
    if b.requested.protocol != m.requested.protocol {
        w.push(format!(
            "protocol differs: base {}, mesh {}",
            b.requested.protocol, m.requested.protocol
        ));
    }
    let err = |x: &smi_types::perf::ResultRecord| {
        if x.requests_total > 0 {
            x.requests_failed as f64 / x.requests_total as f64
        } else {
            0.0
        }
    };
    if (err(b) - err(m)).abs() > 0.01 {
        w.push(format!(
            "error rate differs: base {:.2} %, mesh {:.2} %",
            err(b) * 100.0,
            err(m) * 100.0
        ));
    }
    let rate = |x: &smi_types::perf::ResultRecord| x.actual_rps.parse::<f64>().unwrap_or(0.0);
    let (rb, rm) = (rate(b), rate(m));
    if rb.max(rm) > 0.0 && (rb - rm).abs() / rb.max(rm) > 0.05 {
        w.push(format!(
            "achieved rate differs: base {rb:.1} ok/s, mesh {rm:.1} ok/s — a closed-loop run at capacity compares two different loads; use the Open model at the same rate below both capacities"
        ));
    }
    w
}

/// A self-contained HTML page overlaying two runs: latency by percentile of both (and their
/// service times), the added latency per percentile, rate over time of both, and the warnings
/// of [`compare_warnings`].
pub fn compare_html(base: &PerformanceTestResult, mesh: &PerformanceTestResult) -> String {
    let mut series = Vec::new();
    let mut marks = Vec::new();
    for (r, name, color, ucolor) in [
        (base, "base", "#1f77b4", "#9ecae1"),
        (mesh, "mesh", "#d62728", "#fcae91"),
    ] {
        if let Some(h) = decoded(r.record.histogram.as_ref()) {
            series.push(Series::of(name, color, &h));
        }
        if let Some(h) = decoded(r.record.uncorrected_histogram.as_ref()) {
            series.push(Series::of(
                if name == "base" {
                    "base service time"
                } else {
                    "mesh service time"
                },
                ucolor,
                &h,
            ));
        }
        if name == "base" {
            marks = latency_marks(&r.record.latency);
        }
    }
    let table = compare(base, mesh);
    let warnings = compare_warnings(base, mesh);
    let warn_html = if warnings.is_empty() {
        "<p class=\"pass\" id=\"warnings\">The two runs requested the same load (rate, model, protocol) and their error rates and achieved rates agree.</p>".to_string()
    } else {
        let items: Vec<String> = warnings
            .iter()
            .map(|w| format!("<li>{}</li>", esc(w)))
            .collect();
        format!(
            "<div class=\"warn\" id=\"warnings\"><b>These runs may not be comparable:</b><ul>{}</ul></div>",
            items.join("")
        )
    };
    let mut rate_lines = Vec::new();
    let mut x_max = 0.0f64;
    for (r, name, color) in [
        (base, "base ok/s", "#1f77b4"),
        (mesh, "mesh ok/s", "#d62728"),
    ] {
        if let Some(v) = r
            .record
            .time_series
            .as_ref()
            .and_then(|ts| crate::series::views(ts).ok())
        {
            x_max = x_max.max(v.iter().map(|v| v.offset_secs + v.secs).fold(0.0, f64::max));
            rate_lines.push(Line {
                name: name.into(),
                color,
                points: v
                    .iter()
                    .map(|v| (v.offset_secs + v.secs / 2.0, v.achieved_rps()))
                    .collect(),
            });
        }
    }
    let name = |r: &PerformanceTestResult| esc(r.metadata.name.as_deref().unwrap_or("?"));
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>smi-perf compare: {b} vs {m}</title>
<style>{STYLE}</style>
</head><body>
<h1>Latency added: {b} (base) vs {m} (mesh)</h1>
{warn_html}
<h2>Latency by percentile</h2>
{svg}
<h2>Added latency per percentile</h2>
<pre id="added">{table}</pre>
<h2>Rate over time</h2>
{rate}
<h2>Base</h2>
{bmeta}
<h2>Mesh</h2>
{mmeta}
</body></html>
"#,
        b = name(base),
        m = name(mesh),
        svg = svg(&series, &marks),
        table = esc(&table),
        rate = time_chart(
            "rate",
            "Successful responses per second",
            "/s",
            x_max,
            &rate_lines
        ),
        bmeta = metadata_table(base),
        mmeta = metadata_table(mesh),
    )
}

/// Latency added per percentile by `mesh` over `base` (e.g. without and with a sidecar).
pub fn compare(base: &PerformanceTestResult, mesh: &PerformanceTestResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:>14} {:>14} {:>14} {:>9}",
        "percentile", "base", "mesh", "added", "added %"
    );
    let bh = base
        .record
        .histogram
        .as_ref()
        .and_then(|h| decode_histogram(h).ok());
    let mh = mesh
        .record
        .histogram
        .as_ref()
        .and_then(|h| decode_histogram(h).ok());
    let mut ps: Vec<f64> = base
        .record
        .latency
        .percentiles
        .iter()
        .filter_map(|p| p.percentile.parse().ok())
        .collect();
    for p in mesh
        .record
        .latency
        .percentiles
        .iter()
        .filter_map(|p| p.percentile.parse::<f64>().ok())
    {
        if !ps.contains(&p) {
            ps.push(p);
        }
    }
    ps.sort_by(|a, b| a.total_cmp(b));
    let at = |h: &Option<Histogram<u64>>, l: &LatencySummary, p: f64| -> Option<i64> {
        match h {
            Some(h) if !h.is_empty() => Some(h.value_at_quantile(p / 100.0) as i64),
            _ => l.percentile(p),
        }
    };
    let mut rows: Vec<(String, Option<i64>, Option<i64>)> = ps
        .iter()
        .map(|p| {
            (
                format!("p{}", crate::result::percentile_label(*p)),
                at(&bh, &base.record.latency, *p),
                at(&mh, &mesh.record.latency, *p),
            )
        })
        .collect();
    rows.push((
        "mean".into(),
        Some(base.record.latency.mean_micros),
        Some(mesh.record.latency.mean_micros),
    ));
    rows.push((
        "max".into(),
        Some(base.record.latency.max_micros),
        Some(mesh.record.latency.max_micros),
    ));
    for (label, b, m) in rows {
        match (b, m) {
            (Some(b), Some(m)) => {
                let pct = if b > 0 {
                    format!("{:+.1}%", (m - b) as f64 * 100.0 / b as f64)
                } else {
                    "-".into()
                };
                let _ = writeln!(
                    out,
                    "{label:<10} {:>14} {:>14} {:>14} {pct:>9}",
                    ms(b),
                    ms(m),
                    format!("{:+.3} ms", (m - b) as f64 / 1000.0)
                );
            }
            _ => {
                let _ = writeln!(
                    out,
                    "{label:<10} {:>14} {:>14}",
                    b.map(ms).unwrap_or("-".into()),
                    m.map(ms).unwrap_or("-".into())
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "{:<10} {:>14} {:>14}",
        "rps", base.record.actual_rps, mesh.record.actual_rps
    );
    out
}
