//! Human and tool-facing renderings of a result: text summary, HdrHistogram percentile
//! distribution (`.hgrm`), a self-contained HTML report with an inline SVG chart, a comparison
//! of two results, and the one-line `rps=… p50_ms=… p99_ms=…` form.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use smi_types::perf::{
    EncodedHistogram, LatencySummary, PerformanceTestResult, PerformanceTestSpec, StageResult,
};

use crate::result::decode_histogram;

mod chart;
mod compare;
mod html;

pub use compare::{compare, compare_html, compare_warnings};
pub use html::html;

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

/// Column titles of the per-stage table (the last three are latencies in ms).
const STAGE_COLUMNS: [&str; 12] = [
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
    "p99.9",
];

/// The cells of row `i` of the per-stage table, one per [`STAGE_COLUMNS`] entry, the text and
/// the HTML report's alike but for `secs_sep` (between a time and its `s`) and `arrow` (between
/// the rates a ramped stage goes from and to).
fn stage_cells(i: usize, st: &StageResult, secs_sep: &str, arrow: &str) -> [String; 12] {
    let secs = |ms: i64| format!("{:.3}{secs_sep}s", ms as f64 / 1000.0);
    let requested = if st.from_rps == st.to_rps {
        st.from_rps.to_string()
    } else {
        format!("{}{arrow}{}", st.from_rps, st.to_rps)
    };
    [
        i.to_string(),
        secs(st.start_millis),
        secs(st.duration_millis),
        requested,
        st.actual_rps.clone(),
        st.scheduled.to_string(),
        st.requests_succeeded.to_string(),
        st.requests_failed.to_string(),
        st.dropped_or_late.to_string(),
        stage_p(&st.latency, 50.0),
        stage_p(&st.latency, 99.0),
        stage_p(&st.latency, 99.9),
    ]
}

/// The per-stage table of a ramped run: requested and achieved rate, counts, latency.
fn stages_text(out: &mut String, stages: &[StageResult]) {
    const WIDTHS: [usize; 12] = [3, 9, 9, 15, 12, 9, 8, 8, 7, 9, 9, 9];
    let row = |out: &mut String, cells: &[&str]| {
        out.push(' ');
        for (cell, width) in cells.iter().zip(WIDTHS) {
            let _ = write!(out, " {cell:>width$}");
        }
        out.push('\n');
    };
    let _ = writeln!(
        out,
        "stages (by intended send time; latency of successful responses in ms):"
    );
    row(out, &STAGE_COLUMNS);
    for (i, st) in stages.iter().enumerate() {
        let cells = stage_cells(i, st, "", "->");
        row(out, &cells.each_ref().map(String::as_str));
    }
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

#[cfg(test)]
mod tests {
    const TEXT_WANT: &str = "stages (by intended send time; latency of successful responses in ms):\n    #     start    length   requested rps achieved rps scheduled       ok   failed dropped       p50       p99     p99.9\n    0    0.000s    1.500s             100       98.667       150      148        1       1     1.500     2.250     9.000\n    1    1.500s    0.250s           0->40        0.000         0        0        0       0         -         -         -\n";
    const HTML_WANT: &str = concat!(
        r#"<h2>Stages</h2>"#,
        "\n",
        r#"<table id="stages"><tr><th>#</th><th>start</th><th>length</th><th>requested rps</th><th>achieved rps</th><th>scheduled</th><th>ok</th><th>failed</th><th>dropped</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th></tr><tr><td>0</td><td>0.000 s</td><td>1.500 s</td><td>100</td><td>98.667</td><td>150</td><td>148</td><td>1</td><td>1</td><td>1.500</td><td>2.250</td><td>9.000</td></tr><tr><td>1</td><td>1.500 s</td><td>0.250 s</td><td>0 → 40</td><td>0.000</td><td>0</td><td>0</td><td>0</td><td>0</td><td>-</td><td>-</td><td>-</td></tr></table>"#,
        "\n",
    );

    use super::chart::{Series, nice_step, svg};
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

    /// The stage table reads the same in the text and the HTML report (one row model), with
    /// its exact layout: a step and a linear stage, `-` where a stage has no sample.
    #[test]
    fn stage_tables_text_and_html() {
        use smi_types::perf::{LatencySummary, PercentileValue, StageResult};
        let latency = LatencySummary {
            count: 3,
            percentiles: [("50", 1500), ("99", 2250), ("99.9", 9000)]
                .iter()
                .map(|(p, v)| PercentileValue {
                    percentile: (*p).into(),
                    value_micros: *v,
                })
                .collect(),
            ..Default::default()
        };
        let stages = vec![
            StageResult {
                start_millis: 0,
                duration_millis: 1500,
                from_rps: 100,
                to_rps: 100,
                scheduled: 150,
                requests_total: 149,
                requests_succeeded: 148,
                requests_failed: 1,
                dropped_or_late: 1,
                actual_rps: "98.667".into(),
                latency,
                ..Default::default()
            },
            StageResult {
                start_millis: 1500,
                duration_millis: 250,
                from_rps: 0,
                to_rps: 40,
                actual_rps: "0.000".into(),
                ..Default::default()
            },
        ];
        let mut text = String::new();
        stages_text(&mut text, &stages);
        assert_eq!(text, TEXT_WANT, "{text}");
        let mut r = PerformanceTestResult::default();
        r.record.stages = stages;
        let html = html::stages_html(&r);
        assert_eq!(html, HTML_WANT, "{html}");
    }
}
