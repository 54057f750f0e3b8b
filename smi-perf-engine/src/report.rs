//! Human and tool-facing renderings of a result: text summary, HdrHistogram percentile
//! distribution (`.hgrm`), a self-contained HTML report with an inline SVG chart, a comparison
//! of two results, and the one-line `rps=… p50_ms=… p99_ms=…` form.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use smi_types::perf::{LatencySummary, PerformanceTestResult, PerformanceTestSpec};

use crate::result::decode_histogram;

fn ms(us: i64) -> String {
    format!("{:.3} ms", us as f64 / 1000.0)
}

fn latency_table(out: &mut String, title: &str, l: &LatencySummary) {
    let _ = writeln!(out, "{title} (n = {}):", l.count);
    let _ = writeln!(
        out,
        "  min {:>12}   mean {:>12}   stddev {:>12}   max {:>12}",
        ms(l.min_micros),
        ms(l.mean_micros),
        ms(l.stddev_micros),
        ms(l.max_micros)
    );
    for p in &l.percentiles {
        let _ = writeln!(out, "  p{:<8} {:>12}", p.percentile, ms(p.value_micros));
    }
}

/// The readable summary printed after a run.
pub fn summary(r: &PerformanceTestResult) -> String {
    let x = &r.record;
    let mut out = String::new();
    let q = &x.requested;
    let _ = writeln!(
        out,
        "{} {} load, {} connection(s){}, {} -> {}",
        q.protocol,
        q.load_model,
        q.connections,
        if q.rps > 0 {
            format!(", {} rps requested", q.rps)
        } else {
            String::new()
        },
        q.duration
            .as_ref()
            .map(|d| d.to_string())
            .or(q.requests.map(|n| format!("{n} requests")))
            .unwrap_or_default(),
        q.endpoints.join(", ")
    );
    let _ = writeln!(
        out,
        "requests {}  ok {}  failed {}  dropped {}  in {}  =>  {} req/s",
        x.requests_total,
        x.requests_succeeded,
        x.requests_failed,
        x.dropped_or_late,
        x.actual_duration,
        x.actual_rps
    );
    let _ = writeln!(
        out,
        "bytes sent {}  received {}",
        x.bytes_sent, x.bytes_received
    );
    out.push('\n');
    let basis = match x.latency_basis {
        smi_types::perf::LatencyBasis::Intended => {
            "latency from intended send (coordinated omission corrected)"
        }
        smi_types::perf::LatencyBasis::Actual => "latency",
    };
    latency_table(&mut out, basis, &x.latency);
    if let Some(u) = &x.uncorrected_latency {
        out.push('\n');
        latency_table(&mut out, "service time from actual send (uncorrected)", u);
    }
    out.push('\n');
    let codes: Vec<String> = x
        .status_codes
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let _ = writeln!(
        out,
        "status codes: {}",
        if codes.is_empty() {
            "none".into()
        } else {
            codes.join(", ")
        }
    );
    if !x.errors.is_empty() {
        let errs: Vec<String> = x.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(out, "errors: {}", errs.join(", "));
    }
    if !x.thresholds.is_empty() {
        let _ = writeln!(out, "thresholds:");
        for t in &x.thresholds {
            let _ = writeln!(
                out,
                "  {} {} {:<12} observed {:<14} {}",
                if t.passed { "✓" } else { "✗" },
                t.metric,
                t.limit,
                t.observed,
                if t.passed { "pass" } else { "FAIL" }
            );
        }
    }
    let _ = writeln!(out, "verdict: {}", if x.passed { "PASS" } else { "FAIL" });
    out
}

/// `rps=… p50_ms=… p99_ms=…` for harnesses such as `peers.sh`.
pub fn peers_line(r: &PerformanceTestResult) -> String {
    let l = &r.record.latency;
    format!(
        "rps={} p50_ms={:.3} p99_ms={:.3} p999_ms={:.3} errors={} dropped={}",
        r.record.actual_rps,
        l.percentile(50.0).unwrap_or(0) as f64 / 1000.0,
        l.percentile(99.0).unwrap_or(0) as f64 / 1000.0,
        l.percentile(99.9).unwrap_or(0) as f64 / 1000.0,
        r.record.requests_failed,
        r.record.dropped_or_late
    )
}

/// HdrHistogram percentile distribution in the classic text form (values in ms), as printed by
/// wrk2 `--latency` and read by the HdrHistogram plotter.
pub fn hgrm(h: &Histogram<u64>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    if h.is_empty() {
        return out;
    }
    let mut total = 0u64;
    for v in h.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let value = v.value_iterated_to() as f64 / 1000.0;
        if q < 1.0 {
            let _ = writeln!(
                out,
                "{value:12.3} {q:2.12} {total:10} {:14.2}",
                1.0 / (1.0 - q)
            );
        } else {
            let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10}");
        }
    }
    let _ = writeln!(
        out,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        h.mean() / 1000.0,
        h.stdev() / 1000.0
    );
    let _ = writeln!(
        out,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        h.max() as f64 / 1000.0,
        h.len()
    );
    // HdrHistogram's sub-bucket count: the power of two covering 2 × 10^digits.
    let sub_buckets = (2.0 * 10f64.powi(i32::from(h.sigfig())))
        .log2()
        .ceil()
        .exp2() as u64;
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        sub_buckets
    );
    out
}

/// The `.hgrm` text of a result's (corrected) histogram; `None` when it carries none.
pub fn hgrm_of(r: &PerformanceTestResult) -> Option<String> {
    r.record
        .histogram
        .as_ref()
        .and_then(|h| decode_histogram(h).ok())
        .map(|h| hgrm(&h))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Points (percentile, µs) along the distribution for plotting.
fn curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    h.iter_quantiles(5)
        .map(|v| {
            (
                v.quantile_iterated_to() * 100.0,
                v.value_iterated_to() as f64,
            )
        })
        .collect()
}

/// Inline SVG: latency (ms, linear) against percentile on a log "nines" axis (x = log10(1/(1-q))).
/// A named, coloured curve of (percentile, µs) points.
type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

fn svg(series: &[Series<'_>]) -> String {
    let (w, h, ml, mr, mt, mb) = (760.0, 380.0, 70.0, 20.0, 20.0, 50.0);
    let max_nines: f64 = 5.0; // up to 99.999 %
    let x_of = |p: f64| {
        let q = (p / 100.0).min(1.0 - 1e-5);
        let n = (1.0 / (1.0 - q)).log10().min(max_nines);
        ml + n / max_nines * (w - ml - mr)
    };
    let ymax = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .fold(1.0f64, f64::max)
        / 1000.0
        * 1.05;
    let y_of = |us: f64| mt + (1.0 - (us / 1000.0) / ymax) * (h - mt - mb);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg role="img" aria-label="latency by percentile" viewBox="0 0 {w} {h}" width="{w}" height="{h}">"#
    );
    let _ = write!(
        out,
        r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/>"##
    );
    for (i, label) in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]
        .iter()
        .enumerate()
    {
        let x = ml + i as f64 / max_nines * (w - ml - mr);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{mt}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" font-size="12" text-anchor="middle">{label}</text>"##,
            h - mb,
            h - mb + 16.0
        );
    }
    for i in 0..=4 {
        let v = ymax * f64::from(i) / 4.0;
        let y = mt + (1.0 - f64::from(i) / 4.0) * (h - mt - mb);
        let _ = write!(
            out,
            r##"<line x1="{ml}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{v:.2} ms</text>"##,
            w - mr,
            ml - 6.0,
            y + 4.0
        );
    }
    let _ = write!(
        out,
        r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">percentile (log scale of 1/(1-p))</text>"#,
        (w + ml) / 2.0,
        h - 8.0
    );
    for (i, (name, color, pts)) in series.iter().enumerate() {
        let d: Vec<String> = pts
            .iter()
            .map(|(p, us)| format!("{:.1},{:.1}", x_of(*p), y_of(*us)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="curve" fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            d.join(" ")
        );
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" fill="{color}">{}</text>"#,
            ml + 10.0,
            mt + 14.0 + 16.0 * i as f64,
            esc(name)
        );
    }
    out.push_str("</svg>");
    out
}

/// A self-contained HTML report (no external resources): the chart, the summary and the spec.
pub fn html(r: &PerformanceTestResult, spec: Option<&PerformanceTestSpec>) -> String {
    let mut series = Vec::new();
    if let Some(h) = r
        .record
        .histogram
        .as_ref()
        .and_then(|h| decode_histogram(h).ok())
        .filter(|h| !h.is_empty())
    {
        series.push(("latency", "#1f77b4", curve(&h)));
    }
    if let Some(h) = r
        .record
        .uncorrected_histogram
        .as_ref()
        .and_then(|h| decode_histogram(h).ok())
        .filter(|h| !h.is_empty())
    {
        series.push(("service time (uncorrected)", "#ff7f0e", curve(&h)));
    }
    let spec_yaml = spec
        .and_then(|s| serde_saphyr::to_string(s).ok())
        .unwrap_or_else(|| serde_saphyr::to_string(&r.record.requested).unwrap_or_default());
    let title = r
        .metadata
        .name
        .clone()
        .unwrap_or_else(|| "performance test".into());
    let mut rows = String::new();
    for p in &r.record.latency.percentiles {
        let unc = r
            .record
            .uncorrected_latency
            .as_ref()
            .and_then(|u| u.percentiles.iter().find(|q| q.percentile == p.percentile))
            .map(|q| ms(q.value_micros))
            .unwrap_or_default();
        let _ = write!(
            rows,
            "<tr><td>p{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.percentile),
            ms(p.value_micros),
            unc
        );
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>smi-perf: {t}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:900px}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}pre{{background:#f6f6f6;padding:1em;overflow:auto}}.pass{{color:#080}}.fail{{color:#b00}}</style>
</head><body>
<h1>{t}</h1>
<p class="{vc}">verdict: <b>{verdict}</b></p>
<h2>Latency by percentile</h2>
{svg}
<table><tr><th>percentile</th><th>latency</th><th>uncorrected</th></tr>{rows}</table>
<h2>Summary</h2>
<pre>{summary}</pre>
<h2>Test spec</h2>
<pre>{spec}</pre>
</body></html>
"#,
        t = esc(&title),
        vc = if r.record.passed { "pass" } else { "fail" },
        verdict = if r.record.passed { "PASS" } else { "FAIL" },
        svg = svg(&series),
        rows = rows,
        summary = esc(&summary(r)),
        spec = esc(&spec_yaml),
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
