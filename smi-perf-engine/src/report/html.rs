//! The self-contained HTML report of one result.

use super::chart::*;
use super::*;

/// The per-stage table of the HTML report (empty when the run was not ramped).
pub(super) fn stages_html(r: &PerformanceTestResult) -> String {
    let stages = &r.record.stages;
    if stages.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h2>Stages</h2>\n<table id=\"stages\"><tr>");
    for (i, title) in STAGE_COLUMNS.iter().enumerate() {
        let unit = if i >= STAGE_COLUMNS.len() - 3 {
            " ms"
        } else {
            ""
        };
        let _ = write!(out, "<th>{title}{unit}</th>");
    }
    out.push_str("</tr>");
    for (i, st) in stages.iter().enumerate() {
        out.push_str("<tr>");
        for cell in stage_cells(i, st, " ", " → ") {
            let _ = write!(out, "<td>{}</td>", esc(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>\n");
    out
}

/// The time charts of a result: rate, latency, status codes and errors over time (the points
/// sit at the middle of each interval).
pub(super) fn time_charts(r: &PerformanceTestResult) -> String {
    let Some(ts) = r.record.time_series.as_ref() else {
        return "<p>This result carries no time series.</p>".into();
    };
    let views = match crate::series::views(ts) {
        Ok(v) => v,
        Err(e) => return format!("<p>time series unreadable: {}</p>", esc(&e.to_string())),
    };
    let x_max = views
        .iter()
        .map(|v| v.offset_secs + v.secs)
        .fold(0.0f64, f64::max);
    let mid = |v: &crate::series::IntervalView| v.offset_secs + v.secs / 2.0;
    let mut rate = Vec::new();
    let open = r.record.requested.load_model == smi_types::perf::LoadModel::Open;
    if open {
        rate.push(Line {
            name: "requested (scheduled/s)".into(),
            color: "#7f7f7f",
            points: views.iter().map(|v| (mid(v), v.intended_rps())).collect(),
        });
    } else if r.record.requested.rps > 0 {
        rate.push(Line {
            name: "rate ceiling".into(),
            color: "#7f7f7f",
            points: vec![
                (0.0, r.record.requested.rps as f64),
                (x_max, r.record.requested.rps as f64),
            ],
        });
    }
    rate.push(Line {
        name: "achieved (ok/s)".into(),
        color: "#2ca02c",
        points: views.iter().map(|v| (mid(v), v.achieved_rps())).collect(),
    });
    rate.push(Line {
        name: "failed/s".into(),
        color: "#d62728",
        points: views
            .iter()
            .map(|v| {
                (
                    mid(v),
                    if v.secs > 0.0 {
                        v.failed as f64 / v.secs
                    } else {
                        0.0
                    },
                )
            })
            .collect(),
    });
    let lat = ["p50", "p90", "p99", "max"]
        .iter()
        .enumerate()
        .map(|(i, name)| Line {
            name: (*name).into(),
            color: PALETTE[i],
            points: views
                .iter()
                .filter_map(|v| v.latency.map(|q| (mid(v), q[i] as f64 / 1000.0)))
                .collect(),
        })
        .collect::<Vec<_>>();
    let mut codes: Vec<&String> = views.iter().flat_map(|v| v.status_codes.keys()).collect();
    codes.sort_by_key(|c| (c.parse::<u32>().unwrap_or(u32::MAX), c.to_string()));
    codes.dedup();
    let mut kinds: Vec<&String> = views.iter().flat_map(|v| v.errors.keys()).collect();
    kinds.sort();
    kinds.dedup();
    let per_sec = |v: &crate::series::IntervalView, n: i64| {
        if v.secs > 0.0 { n as f64 / v.secs } else { 0.0 }
    };
    let mut status = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        let code: u16 = c.parse().unwrap_or(0);
        status.push(Line {
            name: format!("{c}/s"),
            color: if code >= 500 {
                "#d62728"
            } else if code >= 400 {
                "#ff7f0e"
            } else {
                PALETTE[(i * 2) % PALETTE.len()]
            },
            points: views
                .iter()
                .map(|v| {
                    (
                        mid(v),
                        per_sec(v, v.status_codes.get(*c).copied().unwrap_or(0)),
                    )
                })
                .collect(),
        });
    }
    for (i, k) in kinds.iter().enumerate() {
        status.push(Line {
            name: format!("{k}/s"),
            color: PALETTE[(i + 3) % PALETTE.len()],
            points: views
                .iter()
                .map(|v| (mid(v), per_sec(v, v.errors.get(*k).copied().unwrap_or(0))))
                .collect(),
        });
    }
    let dropped: i64 = views.iter().map(|v| v.dropped).sum();
    if dropped > 0 {
        status.push(Line {
            name: "dropped/s".into(),
            color: "#8c564b",
            points: views
                .iter()
                .map(|v| (mid(v), per_sec(v, v.dropped)))
                .collect(),
        });
    }
    let mut out = String::new();
    out.push_str(&time_chart("rate", "Rate over time", "/s", x_max, &rate));
    out.push_str(&time_chart(
        "latency-over-time",
        "Latency of successful responses over time",
        "ms",
        x_max,
        &lat,
    ));
    out.push_str(&time_chart(
        "status-over-time",
        "Status codes and errors over time",
        "/s",
        x_max,
        &status,
    ));
    let _ = write!(
        out,
        "<p class=\"note\">{} intervals of {} ms; points at the middle of each interval; requests count in the interval they completed in.</p>",
        views.len(),
        ts.interval_millis
    );
    out
}

pub(super) fn threshold_table(r: &PerformanceTestResult) -> String {
    let mut out = String::from(
        "<table id=\"thresholds\"><tr><th>metric</th><th>limit</th><th>observed</th><th>outcome</th><th>source</th></tr>",
    );
    for t in &r.record.thresholds {
        let _ = write!(
            out,
            "<tr class=\"{c}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&t.metric),
            esc(&t.limit),
            esc(&t.observed),
            if t.passed { "pass" } else { "FAIL" },
            if t.default { "default" } else { "test" },
            c = if t.passed { "pass" } else { "fail" }
        );
    }
    out.push_str("</table>");
    out
}

pub(super) fn metadata_table(r: &PerformanceTestResult) -> String {
    let x = &r.record;
    let q = &x.requested;
    let shards = match (&x.shard, x.per_client.len()) {
        (Some(s), _) => format!("shard {} of {}", s.index, s.count),
        (None, 0) => "1 (unsharded)".into(),
        (None, n) => format!("{n} merged"),
    };
    let rows = [
        ("date", format!("{} – {}", x.start_time.0, x.end_time.0)),
        (
            "engine version",
            format!("smi-perf-engine {}", x.engine_version),
        ),
        ("generator", x.load_generator.clone()),
        ("protocol", q.protocol.to_string()),
        (
            "load model",
            format!(
                "{}{}",
                q.load_model,
                if q.rps > 0 {
                    format!(", {} rps requested", q.rps)
                } else {
                    String::new()
                }
            ),
        ),
        ("connections", q.connections.to_string()),
        (
            "length",
            format!(
                "{} (measured {})",
                q.duration
                    .as_ref()
                    .map(|d| d.to_string())
                    .or(q.requests.map(|n| format!("{n} requests")))
                    .unwrap_or_default(),
                x.actual_duration
            ),
        ),
        ("target", q.endpoints.join(", ")),
        ("shards", shards),
        ("result id", x.id.clone()),
    ];
    let mut out = String::from("<table id=\"metadata\">");
    for (k, v) in rows {
        let _ = write!(out, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
    }
    out.push_str("</table>");
    out
}

pub(super) const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:900px;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}pre{background:#f6f6f6;padding:1em;overflow:auto}.pass{color:#080}.fail{color:#b00}tr.pass{background:#e8f5e9}tr.fail{background:#fdecea}figure{margin:1em 0}.note{color:#666;font-size:90%}.verdict{font-size:130%}.warn{background:#fff4e5;border:1px solid #f0b37e;padding:.5em}";

pub(super) fn latency_marks(l: &LatencySummary) -> Vec<(String, f64, f64)> {
    l.percentiles
        .iter()
        .filter_map(|p| {
            Some((
                p.percentile.clone(),
                p.percentile.parse().ok()?,
                p.value_micros as f64,
            ))
        })
        .collect()
}

pub(super) fn decoded(h: Option<&EncodedHistogram>) -> Option<Histogram<u64>> {
    h.and_then(|h| decode_histogram(h).ok())
        .filter(|h| !h.is_empty())
}

/// A self-contained HTML report (no external resources, no JavaScript: charts are inline SVG):
/// the verdict, run metadata, the threshold table coloured by outcome, rate / latency / status
/// codes and errors over time, latency by percentile (log `1/(1-p)` axis, corrected and
/// uncorrected), the summary and the test spec.
pub fn html(r: &PerformanceTestResult, spec: Option<&PerformanceTestSpec>) -> String {
    let mut series = Vec::new();
    if let Some(h) = decoded(r.record.histogram.as_ref()) {
        series.push(Series::of("latency", "#1f77b4", &h));
    }
    if let Some(h) = decoded(r.record.uncorrected_histogram.as_ref()) {
        series.push(Series::of("service time (uncorrected)", "#ff7f0e", &h));
    }
    let marks = latency_marks(&r.record.latency);
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
    let x = &r.record;
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>smi-perf: {t}</title>
<style>{STYLE}</style>
</head><body>
<h1>{t}</h1>
<p class="verdict {vc}" id="verdict">verdict: <b>{verdict}</b> — {ok} ok, {failed} failed, {dropped} dropped; throughput {rps} ok/s</p>
<h2>Run</h2>
{meta}
<h2>Thresholds</h2>
{thresholds}
<h2>Over time</h2>
{time}
{stages}<h2>Latency by percentile</h2>
{svg}
<table id="percentiles"><tr><th>percentile</th><th>latency</th><th>uncorrected</th></tr>{rows}</table>
<h2>Summary</h2>
<pre>{summary}</pre>
<h2>Test spec</h2>
<pre id="spec">{spec}</pre>
</body></html>
"#,
        t = esc(&title),
        vc = if x.passed { "pass" } else { "fail" },
        verdict = if x.passed { "PASS" } else { "FAIL" },
        ok = x.requests_succeeded,
        failed = x.requests_failed,
        dropped = x.dropped_or_late,
        rps = esc(&x.actual_rps),
        meta = metadata_table(r),
        thresholds = threshold_table(r),
        time = time_charts(r),
        stages = stages_html(r),
        svg = svg(&series, &marks),
        rows = rows,
        summary = esc(&summary(r)),
        spec = esc(&spec_yaml),
    )
}
