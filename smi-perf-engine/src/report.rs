//! Human and tool-facing renderings of a result: text summary, HdrHistogram percentile
//! distribution (`.hgrm`), a self-contained HTML report with an inline SVG chart, a comparison
//! of two results, and the one-line `rps=… p50_ms=… p99_ms=…` form.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use smi_types::perf::{
    EncodedHistogram, LatencySummary, PerformanceTestResult, PerformanceTestSpec,
};

use crate::result::decode_histogram;

fn ms(us: i64) -> String {
    format!("{:.3} ms", us as f64 / 1000.0)
}

fn latency_table(out: &mut String, title: &str, l: &LatencySummary) {
    if l.count == 0 {
        let _ = writeln!(out, "{title}: none recorded");
        return;
    }
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

/// Requests per second of `n` over the result's measured duration (`None` when it is 0).
fn per_second(r: &PerformanceTestResult, n: i64) -> Option<f64> {
    let secs = r.record.actual_duration.to_std().ok()?.as_secs_f64();
    (secs > 0.0).then(|| n as f64 / secs)
}

/// The readable summary printed after a run.
///
/// Throughput is successful responses per second, failures apart; the latency table describes
/// successful responses only, failed ones have their own; thresholds the engine applied by
/// default are marked `(default)`.
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
        "requests {}  ok {}  failed {}  dropped {}  cut off {}  in {}",
        x.requests_total,
        x.requests_succeeded,
        x.requests_failed,
        x.dropped_or_late,
        x.requests_cut_off,
        x.actual_duration
            .to_std()
            .map_or_else(|_| x.actual_duration.to_string(), human_duration),
    );
    let _ = writeln!(
        out,
        "throughput {} ok/s{}",
        x.actual_rps,
        match per_second(r, x.requests_failed) {
            Some(f) if x.requests_failed > 0 => format!("  (failed {f:.3}/s, not counted)"),
            _ => String::new(),
        }
    );
    let _ = writeln!(
        out,
        "bytes sent {}  received {}",
        x.bytes_sent, x.bytes_received
    );
    out.push('\n');
    let basis = match x.latency_basis {
        smi_types::perf::LatencyBasis::Intended => {
            "latency of successful responses from intended send (coordinated omission corrected)"
        }
        smi_types::perf::LatencyBasis::Actual => "latency of successful responses",
    };
    latency_table(&mut out, basis, &x.latency);
    if let Some(u) = &x.uncorrected_latency {
        out.push('\n');
        latency_table(&mut out, "service time from actual send (uncorrected)", u);
    }
    if let Some(f) = &x.failed_latency {
        out.push('\n');
        latency_table(
            &mut out,
            "time to failure of failed requests (kept apart)",
            f,
        );
    }
    if !x.stages.is_empty() {
        out.push('\n');
        stages_text(&mut out, &x.stages);
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
    if !x.grpc_status_codes.is_empty() {
        let codes: Vec<String> = x
            .grpc_status_codes
            .iter()
            .map(|(k, v)| {
                let name = k.parse().map_or("UNKNOWN", crate::stats::grpc_code_name);
                format!("{k} {name}: {v}")
            })
            .collect();
        let _ = writeln!(out, "gRPC status codes: {}", codes.join(", "));
    }
    if !x.errors.is_empty() {
        let errs: Vec<String> = x.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(out, "errors: {}", errs.join(", "));
    }
    if !x.thresholds.is_empty() {
        let _ = writeln!(out, "thresholds:");
        for t in &x.thresholds {
            let _ = writeln!(
                out,
                "  {} {} {:<12} observed {:<14} {}{}",
                if t.passed { "✓" } else { "✗" },
                t.metric,
                t.limit,
                t.observed,
                if t.passed { "pass" } else { "FAIL" },
                if t.default { "  (default)" } else { "" }
            );
        }
        if x.thresholds
            .iter()
            .any(|t| t.default && t.metric != crate::SUCCEEDED_METRIC)
        {
            let _ = writeln!(
                out,
                "  (default) thresholds apply to metrics the test sets none on; override one with your own, e.g. --threshold errorRate<=0.05"
            );
        }
    }
    let _ = writeln!(out, "verdict: {}", if x.passed { "PASS" } else { "FAIL" });
    out
}

fn stage_p(l: &smi_types::perf::LatencySummary, p: f64) -> String {
    l.percentile(p)
        .filter(|_| l.count > 0)
        .map_or_else(|| "-".into(), |v| format!("{:.3}", v as f64 / 1000.0))
}

/// The per-stage table of a ramped run: requested and achieved rate, counts, latency.
fn stages_text(out: &mut String, stages: &[smi_types::perf::StageResult]) {
    let _ = writeln!(
        out,
        "stages (by intended send time; latency of successful responses in ms):"
    );
    let _ = writeln!(
        out,
        "  {:>3} {:>9} {:>9} {:>15} {:>12} {:>9} {:>8} {:>8} {:>7} {:>9} {:>9} {:>9}",
        "#",
        "start",
        "length",
        "requested rps",
        "achieved rps",
        "scheduled",
        "ok",
        "failed",
        "dropped",
        "p50",
        "p99",
        "p99.9"
    );
    for (i, st) in stages.iter().enumerate() {
        let req = if st.from_rps == st.to_rps {
            st.from_rps.to_string()
        } else {
            format!("{}->{}", st.from_rps, st.to_rps)
        };
        let _ = writeln!(
            out,
            "  {:>3} {:>8.3}s {:>8.3}s {:>15} {:>12} {:>9} {:>8} {:>8} {:>7} {:>9} {:>9} {:>9}",
            i,
            st.start_millis as f64 / 1000.0,
            st.duration_millis as f64 / 1000.0,
            req,
            st.actual_rps,
            st.scheduled,
            st.requests_succeeded,
            st.requests_failed,
            st.dropped_or_late,
            stage_p(&st.latency, 50.0),
            stage_p(&st.latency, 99.0),
            stage_p(&st.latency, 99.9),
        );
    }
}

/// The per-stage table of the HTML report (empty when the run was not ramped).
fn stages_html(r: &PerformanceTestResult) -> String {
    let stages = &r.record.stages;
    if stages.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<h2>Stages</h2>\n<table id=\"stages\"><tr><th>#</th><th>start</th><th>length</th><th>requested rps</th><th>achieved rps</th><th>scheduled</th><th>ok</th><th>failed</th><th>dropped</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th></tr>",
    );
    for (i, st) in stages.iter().enumerate() {
        let req = if st.from_rps == st.to_rps {
            st.from_rps.to_string()
        } else {
            format!("{} → {}", st.from_rps, st.to_rps)
        };
        let _ = write!(
            out,
            "<tr><td>{i}</td><td>{:.3} s</td><td>{:.3} s</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            st.start_millis as f64 / 1000.0,
            st.duration_millis as f64 / 1000.0,
            esc(&req),
            esc(&st.actual_rps),
            st.scheduled,
            st.requests_succeeded,
            st.requests_failed,
            st.dropped_or_late,
            stage_p(&st.latency, 50.0),
            stage_p(&st.latency, 99.0),
            stage_p(&st.latency, 99.9),
        );
    }
    out.push_str("</table>\n");
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

/// A named, coloured latency curve: (percentile, µs) points and the number of values behind them.
struct Series<'a> {
    name: &'a str,
    color: &'a str,
    points: Vec<(f64, f64)>,
    count: u64,
}

impl<'a> Series<'a> {
    fn of(name: &'a str, color: &'a str, h: &Histogram<u64>) -> Self {
        let points = h
            .iter_quantiles(5)
            .map(|v| {
                (
                    v.quantile_iterated_to() * 100.0,
                    v.value_iterated_to() as f64,
                )
            })
            .collect();
        Series {
            name,
            color,
            points,
            count: h.len(),
        }
    }
}

/// 1, 2 or 5 × 10^k: the smallest such step of at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// Inline SVG: latency (ms, linear) against percentile on a log "nines" axis
/// (x = log10(1/(1-p))), with a dot per reported percentile (`marks`: label, percentile, µs).
/// The axis ends at the nines the sample count can resolve (1000 values: 99.9 %), so a short
/// run is not drawn as a long flat line of made-up precision.
fn svg(series: &[Series<'_>], marks: &[(String, f64, f64)]) -> String {
    let (w, h, ml, mr, mt, mb) = (760.0, 400.0, 70.0, 40.0, 36.0, 50.0);
    let count = series.iter().map(|s| s.count).max().unwrap_or(0);
    let nines = ((count.max(1) as f64).log10().ceil()).clamp(1.0, 5.0);
    let x_of = |p: f64| {
        let rest = (1.0 - p / 100.0).max(1e-12);
        ml + (-rest.log10()).clamp(0.0, nines) / nines * (w - ml - mr)
    };
    let max_ms = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        / 1000.0;
    let step = nice_step(max_ms.max(0.001) / 5.0);
    let ticks = (max_ms / step).ceil().max(1.0);
    let ymax = step * ticks;
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let y_of = |us: f64| mt + (1.0 - (us / 1000.0) / ymax) * (h - mt - mb);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg id="percentiles-chart" role="img" aria-label="latency by percentile" viewBox="0 0 {w} {h}" width="{w}" height="{h}"><rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/>"##
    );
    let labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"];
    for (i, label) in labels.iter().take(nines as usize + 1).enumerate() {
        let x = ml + i as f64 / nines * (w - ml - mr);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{mt}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text class="x-tick" x="{x:.1}" y="{:.1}" font-size="12" text-anchor="middle">{label}</text>"##,
            h - mb,
            h - mb + 16.0
        );
    }
    for i in 0..=ticks as u32 {
        let v = step * f64::from(i);
        let y = y_of(v * 1000.0);
        let _ = write!(
            out,
            r##"<line x1="{ml}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text class="y-tick" x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{v:.decimals$} ms</text>"##,
            w - mr,
            ml - 6.0,
            y + 4.0
        );
    }
    let _ = write!(
        out,
        r##"<line x1="{ml}" y1="{mt}" x2="{ml}" y2="{b:.1}" stroke="#888"/><line x1="{ml}" y1="{b:.1}" x2="{r:.1}" y2="{b:.1}" stroke="#888"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">percentile (log scale of 1/(1-p))</text>"##,
        (w + ml - mr) / 2.0,
        h - 8.0,
        b = h - mb,
        r = w - mr,
    );
    if series.is_empty() {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="14" text-anchor="middle">no latency recorded</text>"#,
            (w + ml - mr) / 2.0,
            (h + mt - mb) / 2.0
        );
    }
    // Legend in the top margin, where no curve can cover it.
    let mut lx = ml;
    for s in series {
        let _ = write!(
            out,
            r#"<line x1="{lx:.1}" y1="14" x2="{:.1}" y2="14" stroke="{c}" stroke-width="2"/><text x="{:.1}" y="18" font-size="12" fill="{c}">{}</text>"#,
            lx + 18.0,
            lx + 24.0,
            esc(s.name),
            c = s.color
        );
        lx += 24.0 + 7.0 * s.name.chars().count() as f64 + 24.0;
    }
    for s in series {
        let d: Vec<String> = s
            .points
            .iter()
            .map(|(p, us)| format!("{:.1},{:.1}", x_of(*p), y_of(*us)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="curve" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round" points="{}"/>"#,
            s.color,
            d.join(" ")
        );
    }
    if let Some(s) = series.first() {
        for (label, p, us) in marks {
            let _ = write!(
                out,
                r##"<circle class="mark" cx="{:.1}" cy="{:.1}" r="4" fill="{}" stroke="#fff"><title>p{}: {}</title></circle>"##,
                x_of(*p),
                y_of(*us),
                s.color,
                esc(label),
                ms(*us as i64)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A line of a time chart: name, colour, (seconds, value) points.
struct Line {
    name: String,
    color: &'static str,
    points: Vec<(f64, f64)>,
}

/// Inline SVG line chart of values over time (x: seconds since the series start, linear; y:
/// linear from 0). Every polyline carries its data as `data-values="t:v …"` (the numbers it was
/// drawn from, so a test can check the chart against the result) and `data-series` (its name).
fn time_chart(id: &str, title: &str, unit: &str, x_max: f64, lines: &[Line]) -> String {
    let (w, h, ml, mr, mt, mb) = (760.0, 260.0, 70.0, 20.0, 36.0, 40.0);
    let x_max = if x_max > 0.0 { x_max } else { 1.0 };
    let y_max_raw = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let step = nice_step(if y_max_raw > 0.0 { y_max_raw } else { 1.0 } / 4.0);
    let ticks = (y_max_raw / step).ceil().max(1.0);
    let y_max = step * ticks;
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let x_of = |t: f64| ml + (t / x_max).clamp(0.0, 1.0) * (w - ml - mr);
    let y_of = |v: f64| mt + (1.0 - v / y_max) * (h - mt - mb);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<figure><svg id="{id}" class="chart" role="img" aria-label="{t}" viewBox="0 0 {w} {h}" width="{w}" height="{h}"><rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/><text x="{ml}" y="14" font-size="13" font-weight="bold">{t}</text>"##,
        t = esc(title)
    );
    for i in 0..=ticks as u32 {
        let v = step * f64::from(i);
        let y = y_of(v);
        let _ = write!(
            out,
            r##"<line x1="{ml}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text class="y-tick" x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{v:.decimals$} {}</text>"##,
            w - mr,
            ml - 6.0,
            y + 4.0,
            esc(unit)
        );
    }
    let xstep = nice_step(x_max / 8.0);
    let mut t = 0.0;
    while t <= x_max + 1e-9 {
        let x = x_of(t);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{mt}" x2="{x:.1}" y2="{:.1}" stroke="#f3f3f3"/><text class="x-tick" x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{t}s</text>"##,
            h - mb,
            h - mb + 14.0
        );
        t += xstep;
    }
    let _ = write!(
        out,
        r##"<line x1="{ml}" y1="{mt}" x2="{ml}" y2="{b:.1}" stroke="#888"/><line x1="{ml}" y1="{b:.1}" x2="{:.1}" y2="{b:.1}" stroke="#888"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">seconds since start</text>"##,
        w - mr,
        (w + ml - mr) / 2.0,
        h - 6.0,
        b = h - mb,
    );
    if lines.iter().all(|l| l.points.is_empty()) {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle">no data</text>"#,
            (w + ml - mr) / 2.0,
            (h + mt - mb) / 2.0
        );
    }
    let mut lx = ml + 8.0 * title.chars().count() as f64 + 24.0;
    for l in lines {
        let _ = write!(
            out,
            r#"<line x1="{lx:.1}" y1="10" x2="{:.1}" y2="10" stroke="{c}" stroke-width="2"/><text x="{:.1}" y="14" font-size="11" fill="{c}">{}</text>"#,
            lx + 14.0,
            lx + 18.0,
            esc(&l.name),
            c = l.color
        );
        lx += 18.0 + 6.5 * l.name.chars().count() as f64 + 16.0;
    }
    for l in lines {
        let pts: Vec<String> = l
            .points
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", x_of(*t), y_of(*v)))
            .collect();
        let vals: Vec<String> = l.points.iter().map(|(t, v)| format!("{t}:{v}")).collect();
        let _ = write!(
            out,
            r#"<polyline class="series" data-series="{}" data-values="{}" fill="none" stroke="{}" stroke-width="2" stroke-linejoin="round" points="{}"/>"#,
            esc(&l.name),
            vals.join(" "),
            l.color,
            pts.join(" ")
        );
        if l.points.len() == 1 {
            let (t, v) = l.points[0];
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                x_of(t),
                y_of(v),
                l.color
            );
        }
    }
    out.push_str("</svg></figure>");
    out
}

const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

/// The time charts of a result: rate, latency, status codes and errors over time (the points
/// sit at the middle of each interval).
fn time_charts(r: &PerformanceTestResult) -> String {
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

fn threshold_table(r: &PerformanceTestResult) -> String {
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

fn metadata_table(r: &PerformanceTestResult) -> String {
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

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:900px;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}pre{background:#f6f6f6;padding:1em;overflow:auto}.pass{color:#080}.fail{color:#b00}tr.pass{background:#e8f5e9}tr.fail{background:#fdecea}figure{margin:1em 0}.note{color:#666;font-size:90%}.verdict{font-size:130%}.warn{background:#fff4e5;border:1px solid #f0b37e;padding:.5em}";

fn latency_marks(l: &LatencySummary) -> Vec<(String, f64, f64)> {
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

fn decoded(h: Option<&EncodedHistogram>) -> Option<Histogram<u64>> {
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

/// A duration for people: `3s`, `2.999s`, `850ms`, `1m30.5s`, `2h0m5s` — the largest unit first and
/// seconds with up to three decimals, instead of the wire form (`2s999ms`) results carry.
///
/// ```
/// use std::time::Duration;
/// use smi_perf_engine::report::human_duration;
/// assert_eq!(human_duration(Duration::from_millis(2999)), "2.999s");
/// assert_eq!(human_duration(Duration::from_secs(3)), "3s");
/// assert_eq!(human_duration(Duration::from_millis(850)), "850ms");
/// assert_eq!(human_duration(Duration::from_millis(90_500)), "1m30.5s");
/// ```
pub fn human_duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return if ms == 0 && !d.is_zero() {
            format!("{}µs", d.as_micros())
        } else {
            format!("{ms}ms")
        };
    }
    let (h, m, s_ms) = (ms / 3_600_000, ms / 60_000 % 60, ms % 60_000);
    let secs = if s_ms % 1000 == 0 {
        format!("{}s", s_ms / 1000)
    } else {
        let frac = format!("{:03}", s_ms % 1000);
        format!("{}.{}s", s_ms / 1000, frac.trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        use std::time::Duration;
        for (d, want) in [
            (Duration::ZERO, "0ms"),
            (Duration::from_micros(250), "250µs"),
            (Duration::from_millis(2999), "2.999s"),
            (Duration::from_millis(3000), "3s"),
            (Duration::from_millis(10_050), "10.05s"),
            (Duration::from_secs(3605), "1h0m5s"),
        ] {
            assert_eq!(human_duration(d), want);
        }
        let mut r = PerformanceTestResult::default();
        r.record.actual_duration = smi_types::perf::Duration::from(Duration::from_millis(2999));
        let s = summary(&r);
        assert!(s.contains(" in 2.999s\n"), "{s}");
        assert!(!s.contains("2s999ms"), "{s}");
    }

    #[test]
    fn nice_steps_are_1_2_5_times_a_power_of_ten() {
        for (raw, step) in [
            (0.3, 0.5),
            (1.0, 1.0),
            (1.95, 2.0),
            (2.44, 5.0),
            (7.0, 10.0),
        ] {
            assert!(
                (nice_step(raw) - step).abs() < 1e-9,
                "{raw} -> {}",
                nice_step(raw)
            );
        }
        assert!((nice_step(0.012) - 0.02).abs() < 1e-12);
    }

    #[test]
    fn the_nines_axis_ends_where_the_sample_count_resolves() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in 1..=500u64 {
            h.record(v * 10).unwrap();
        }
        let chart = svg(&[Series::of("latency", "#000", &h)], &[]);
        assert!(chart.contains(">99.9%</text>") && !chart.contains(">99.99%</text>"));
        assert!(!svg(&[], &[]).contains("<polyline"));
    }
}
